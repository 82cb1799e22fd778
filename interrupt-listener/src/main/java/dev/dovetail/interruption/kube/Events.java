package dev.dovetail.interruption.kube;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * core/v1 Events, as dev.dovetail.runtime.Recorder writes them for the other components (same fields,
 * source, dedupe window and dropped-events counter), on the agent's own API client: in the background,
 * so a slow API server never delays a taint; the same event for the same object at most once per
 * {@link #DEDUPE_WINDOW}; dropped and counted when the queue is full.
 */
public final class Events implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Events.class);
  public static final Duration DEDUPE_WINDOW = Duration.ofMinutes(2);

  /** The object an event is about. */
  public record Involved(String apiVersion, String kind, String namespace, String name, String uid) {
    /** From an object as the API server returned it. */
    public static Involved of(JsonNode object) {
      JsonNode m = object.path("metadata");
      return new Involved(object.path("apiVersion").asText(null), object.path("kind").asText(null), m.path("namespace").asText(null),
          m.path("name").asText(), m.path("uid").asText(null));
    }
  }

  private final KubeApi api;
  private final String component;
  private final Clock clock;
  private final String host;
  /** Event key to when it was written; a node agent writes a handful, so a map pruned on insert is enough. */
  private final Map<String, Instant> recent = new HashMap<>();
  private final ThreadPoolExecutor writer;
  private final Counter dropped;

  /** @param component the events' source, e.g. {@code dovetail-interrupt-listener} */
  public Events(KubeApi api, String component, Clock clock, String host, MeterRegistry registry) {
    this.api = api;
    this.component = component;
    this.clock = clock;
    this.host = host;
    this.writer = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(100), r -> {
      Thread t = new Thread(r, "event-writer");
      t.setDaemon(true);
      return t;
    }, new ThreadPoolExecutor.AbortPolicy());
    this.dropped = Counter.builder("dovetail_events_dropped").description("Events not written because the queue was full").register(registry);
  }

  public void normal(Involved object, String reason, String message) {
    record(object, "Normal", reason, message);
  }

  public void warning(Involved object, String reason, String message) {
    record(object, "Warning", reason, message);
  }

  private void record(Involved object, String type, String reason, String message) {
    String key = (object.uid() == null ? object.name() : object.uid()) + "/" + reason + "/" + message;
    Instant now = clock.instant();
    synchronized (recent) {
      recent.values().removeIf(at -> !now.isBefore(at.plus(DEDUPE_WINDOW)));
      if (recent.putIfAbsent(key, now) != null) {
        return;
      }
    }
    try {
      writer.execute(() -> write(object, type, reason, message));
    } catch (RejectedExecutionException e) {
      dropped.increment();
    }
  }

  private void write(Involved object, String type, String reason, String message) {
    ObjectNode event = event(object, type, reason, message, component, host, clock.instant(),
        HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()).substring(0, 12));
    String namespace = event.path("metadata").path("namespace").asText();
    try {
      api.post("/api/v1/namespaces/" + KubeApi.segment(namespace) + "/events", event);
    } catch (RuntimeException e) {
      LOG.debug("event {} {} on {} not written: {}", type, reason, object.name(), e.toString());
    }
  }

  /** The Event object: in the object's namespace, or {@code default} for cluster-scoped ones such as Nodes. */
  static ObjectNode event(Involved object, String type, String reason, String message, String component, String host, Instant at,
      String suffix) {
    String namespace = object.namespace() == null ? "default" : object.namespace();
    String now = at.truncatedTo(ChronoUnit.SECONDS).toString();
    ObjectNode event = KubeApi.JSON.createObjectNode().put("apiVersion", "v1").put("kind", "Event");
    event.putObject("metadata").put("name", object.name() + "." + suffix).put("namespace", namespace);
    ObjectNode involved = event.putObject("involvedObject");
    putIfSet(involved, "apiVersion", object.apiVersion());
    putIfSet(involved, "kind", object.kind());
    putIfSet(involved, "name", object.name());
    putIfSet(involved, "namespace", object.namespace());
    putIfSet(involved, "uid", object.uid());
    event.put("type", type).put("reason", reason).put("message", message.length() > 1024 ? message.substring(0, 1021) + "..." : message)
        .put("firstTimestamp", now).put("lastTimestamp", now).put("count", 1);
    event.putObject("source").put("component", component).put("host", host);
    event.put("reportingComponent", component).put("reportingInstance", host);
    return event;
  }

  private static void putIfSet(ObjectNode node, String field, String value) {
    if (value != null) {
      node.put(field, value);
    }
  }

  @Override
  public void close() {
    writer.shutdown();
    try {
      writer.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
