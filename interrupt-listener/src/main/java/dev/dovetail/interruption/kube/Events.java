package dev.dovetail.interruption.kube;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dovetail.runtime.events.EventRecorder;
import java.util.Map;

/**
 * The agent's Events: the shared dev.dovetail.runtime.events.EventRecorder (background writes, dedupe
 * window, dropped-events counter, the same Event the other components write) sent on the agent's own
 * API client instead of fabric8's.
 */
public final class Events implements EventRecorder.Transport {
  /** Events waiting to be written at most: a node agent writes a handful. */
  public static final int QUEUE = 100;

  private final KubeApi api;

  public Events(KubeApi api) {
    this.api = api;
  }

  /** The object an event is about, from the object as the API server returned it. */
  public static EventRecorder.Involved involved(JsonNode object) {
    JsonNode m = object.path("metadata");
    return new EventRecorder.Involved(object.path("apiVersion").asText(null), object.path("kind").asText(null),
        m.path("namespace").asText(null), m.path("name").asText(), m.path("uid").asText(null));
  }

  /** The Event as it is posted. */
  static JsonNode body(Map<String, Object> event) {
    return PlainJson.tree(event);
  }

  @Override
  public void create(String namespace, Map<String, Object> event) {
    api.post("/api/v1/namespaces/" + KubeApi.segment(namespace) + "/events", body(event));
  }
}
