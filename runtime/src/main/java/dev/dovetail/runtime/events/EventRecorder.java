package dev.dovetail.runtime.events;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kubernetes Events for what users must see (pods nominated or not schedulable, NodeClaims launched,
 * registered, failing, nodes about to be reclaimed), for every component: the core/v1 Event, written in
 * the background so a slow API server never slows a controller or delays a taint. The same event for the
 * same object is written once per {@link #DEDUPE_WINDOW}, as Karpenter dedupes; when the queue is full,
 * events are dropped and counted ({@code dovetail_events_dropped}) rather than blocking.
 *
 * <p>It knows no API client: a {@link Transport} sends each Event. The components on fabric8 use
 * dev.dovetail.runtime.Recorder; the interrupt listener passes its own small client, so nothing here
 * loads fabric8 (or Vert.x) into it.
 */
public final class EventRecorder implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EventRecorder.class);
  public static final Duration DEDUPE_WINDOW = Duration.ofMinutes(2);
  /** Keys remembered for deduplication at most; the oldest are forgotten first. */
  static final int REMEMBERED = 100_000;
  /** The API server's limit on an Event's message. */
  static final int MAX_MESSAGE = 1024;

  /** The object an event is about, as a core/v1 ObjectReference names it; null fields are left out. */
  public record Involved(String apiVersion, String kind, String namespace, String name, String uid) {
  }

  /** Sends Events to the API server. */
  @FunctionalInterface
  public interface Transport {
    /**
     * Creates the Event, a core/v1 Event as plain values (maps, strings, numbers), in {@code namespace}.
     * Runs on the recorder's writer thread and may block; a failure is logged and the event lost.
     */
    void create(String namespace, Map<String, Object> event) throws Exception;
  }

  private final Transport transport;
  private final String component;
  private final Clock clock;
  private final String host;
  /** Event key to when it was written, oldest first. */
  private final LinkedHashMap<String, Instant> recent = new LinkedHashMap<>();
  private final ThreadPoolExecutor writer;
  private final Counter dropped;

  /**
   * @param component the events' source, e.g. {@code dovetail-provisioner}
   * @param host the reporting instance (the pod or node name)
   * @param queueCapacity events waiting to be written at most; more are dropped and counted
   */
  public EventRecorder(Transport transport, String component, Clock clock, String host, MeterRegistry registry, int queueCapacity) {
    this.transport = transport;
    this.component = component;
    this.clock = clock;
    this.host = host;
    this.writer = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(queueCapacity), r -> {
      Thread t = new Thread(r, "event-writer");
      t.setDaemon(true);
      return t;
    }, new ThreadPoolExecutor.AbortPolicy());
    this.dropped = Counter.builder("dovetail_events_dropped").description("Events not written because the queue was full").register(registry);
  }

  /**
   * A token bucket that the events passed through it share, as client-go's token-bucket rate limiter: it refills at
   * {@code perSecond} and holds at most {@code burst}. Karpenter passes its {@code Nominated} events through one of
   * 5 a second, burst 10, so a burst of a thousand pending pods writes a few dozen of them rather than a thousand
   * Event creations for the API server to store while it is busiest.
   */
  public static final class RateLimit {
    private final double perSecond;
    private final double burst;
    /** Guarded by {@code this}. */
    private double tokens;
    private Instant last;

    public RateLimit(double perSecond, int burst) {
      if (perSecond <= 0 || burst < 1) {
        throw new IllegalArgumentException("rate limit needs a positive rate and a burst of at least 1 (" + perSecond + ", " + burst + ")");
      }
      this.perSecond = perSecond;
      this.burst = burst;
      this.tokens = burst;
    }

    /** Takes a token if one is left at {@code now}. */
    synchronized boolean tryAccept(Instant now) {
      if (last != null && now.isAfter(last)) {
        tokens = Math.min(burst, tokens + Duration.between(last, now).toNanos() / 1e9 * perSecond);
      }
      if (last == null || now.isAfter(last)) {
        last = now;
      }
      if (tokens >= 1) {
        tokens -= 1;
        return true;
      }
      return false;
    }
  }

  public void normal(Involved object, String reason, String message) {
    record(object, "Normal", reason, message, null);
  }

  /** A normal event written only if {@code limit} has a token left (after the dedupe window, as Karpenter checks them). */
  public void normal(Involved object, String reason, String message, RateLimit limit) {
    record(object, "Normal", reason, message, limit);
  }

  public void warning(Involved object, String reason, String message) {
    record(object, "Warning", reason, message, null);
  }

  private void record(Involved object, String type, String reason, String message, RateLimit limit) {
    Instant now = clock.instant();
    if (!firstInWindow((object.uid() == null ? object.name() : object.uid()) + "/" + reason + "/" + message, now)) {
      return;
    }
    if (limit != null && !limit.tryAccept(now)) {
      return;
    }
    try {
      writer.execute(() -> write(object, type, reason, message));
    } catch (RejectedExecutionException e) {
      dropped.increment();
    }
  }

  /** Whether no event of this key was written within the window before {@code now}; if so, it is now. */
  private boolean firstInWindow(String key, Instant now) {
    synchronized (recent) {
      for (Iterator<Instant> oldest = recent.values().iterator(); oldest.hasNext(); ) {
        if (now.isBefore(oldest.next().plus(DEDUPE_WINDOW))) {
          break;
        }
        oldest.remove();
      }
      Instant last = recent.get(key);
      if (last != null && now.isBefore(last.plus(DEDUPE_WINDOW))) {
        return false;
      }
      recent.remove(key);
      recent.put(key, now);
      if (recent.size() > REMEMBERED) {
        Iterator<String> oldest = recent.keySet().iterator();
        oldest.next();
        oldest.remove();
      }
      return true;
    }
  }

  private void write(Involved object, String type, String reason, String message) {
    Map<String, Object> event = event(object, type, reason, message, component, host, clock.instant(),
        HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()).substring(0, 12));
    try {
      transport.create(namespace(object), event);
    } catch (Exception e) {
      LOG.debug("event {} {} on {} not written: {}", type, reason, object.name(), e.toString());
    }
  }

  /** Where an event about the object goes: its namespace, or {@code default} for cluster-scoped ones such as Nodes. */
  static String namespace(Involved object) {
    return object.namespace() == null ? "default" : object.namespace();
  }

  /**
   * The core/v1 Event, as plain values in the API's field order: named after the object with a random
   * suffix, timestamps to the second, the message cut to the API server's limit.
   */
  public static Map<String, Object> event(Involved object, String type, String reason, String message, String component, String host,
      Instant at, String suffix) {
    String now = at.truncatedTo(ChronoUnit.SECONDS).toString();
    Map<String, Object> event = new LinkedHashMap<>();
    event.put("apiVersion", "v1");
    event.put("kind", "Event");
    Map<String, Object> metadata = new LinkedHashMap<>();
    metadata.put("name", object.name() + "." + suffix);
    metadata.put("namespace", namespace(object));
    event.put("metadata", metadata);
    Map<String, Object> involved = new LinkedHashMap<>();
    putIfSet(involved, "apiVersion", object.apiVersion());
    putIfSet(involved, "kind", object.kind());
    putIfSet(involved, "name", object.name());
    putIfSet(involved, "namespace", object.namespace());
    putIfSet(involved, "uid", object.uid());
    event.put("involvedObject", involved);
    event.put("type", type);
    event.put("reason", reason);
    event.put("message", message.length() > MAX_MESSAGE ? message.substring(0, MAX_MESSAGE - 3) + "..." : message);
    event.put("firstTimestamp", now);
    event.put("lastTimestamp", now);
    event.put("count", 1);
    Map<String, Object> source = new LinkedHashMap<>();
    source.put("component", component);
    source.put("host", host);
    event.put("source", source);
    event.put("reportingComponent", component);
    event.put("reportingInstance", host);
    return event;
  }

  private static void putIfSet(Map<String, Object> map, String field, String value) {
    if (value != null) {
      map.put(field, value);
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
