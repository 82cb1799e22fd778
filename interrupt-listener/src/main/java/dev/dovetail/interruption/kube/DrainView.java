package dev.dovetail.interruption.kube;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dovetail.api.disruption.DrainPod;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A pod as dev.dovetail.api.disruption.Drain reads it ({@link DrainPod}), from the API server's JSON:
 * only the fields the drain rules look at (name, namespace, annotations, controller owners, deletion,
 * priority class, tolerations, phase, start). Copied field by field into plain values: neither bound
 * (databind's deserializers) nor built as the fabric8 model, which this agent does not load.
 */
public final class DrainView {
  private DrainView() {
  }

  public static DrainPod pod(JsonNode json) {
    JsonNode m = json.path("metadata");
    Map<String, String> annotations = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : m.path("annotations").properties()) {
      annotations.put(e.getKey(), e.getValue().asText());
    }
    boolean daemonSet = false;
    for (JsonNode o : m.path("ownerReferences")) {
      daemonSet |= "DaemonSet".equals(text(o, "kind")) && o.path("controller").asBoolean(false);
    }
    JsonNode s = json.path("spec");
    List<DrainPod.Toleration> tolerations = new ArrayList<>();
    for (JsonNode t : s.path("tolerations")) {
      tolerations.add(new DrainPod.Toleration(text(t, "key"), text(t, "operator"), text(t, "value"), text(t, "effect")));
    }
    JsonNode status = json.path("status");
    return new DrainPod(text(m, "namespace"), text(m, "name"), text(m, "deletionTimestamp"), annotations, daemonSet,
        text(s, "priorityClassName"), tolerations, text(status, "phase"), text(status, "startTime"), text(m, "creationTimestamp"),
        s.hasNonNull("terminationGracePeriodSeconds") ? s.get("terminationGracePeriodSeconds").asLong() : null);
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }
}
