package dev.dovetail.runtime;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kubernetes Events for what users must see (pods nominated or not schedulable, NodeClaims launched,
 * registered, failing, nodes about to be reclaimed), written in the background so a slow API server never slows a controller. The
 * same event for the same object is written once per {@link #DEDUPE_WINDOW}, as Karpenter dedupes;
 * when the queue is full, events are dropped and counted rather than blocking.
 */
public final class Recorder implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Recorder.class);
  public static final Duration DEDUPE_WINDOW = Duration.ofMinutes(2);

  private final KubernetesClient client;
  private final String component;
  private final Clock clock;
  private final String host;
  private final Cache<String, Boolean> recent;
  private final ThreadPoolExecutor writer;
  private final Counter dropped;

  /** @param component the events' source, e.g. {@code dovetail-provisioner} */
  public Recorder(KubernetesClient client, String component, Clock clock, String host, MeterRegistry registry) {
    this.client = client;
    this.component = component;
    this.clock = clock;
    this.host = host;
    this.recent = Caffeine.newBuilder().expireAfterWrite(DEDUPE_WINDOW).maximumSize(100_000).build();
    this.writer = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(10_000), r -> {
      Thread t = new Thread(r, "event-writer");
      t.setDaemon(true);
      return t;
    }, new ThreadPoolExecutor.AbortPolicy());
    this.dropped = Counter.builder("dovetail_events_dropped").description("Events not written because the queue was full")
        .register(registry);
  }

  public void normal(HasMetadata object, String reason, String message) {
    record(object, "Normal", reason, message);
  }

  public void warning(HasMetadata object, String reason, String message) {
    record(object, "Warning", reason, message);
  }

  private void record(HasMetadata object, String type, String reason, String message) {
    String uid = object.getMetadata().getUid();
    String key = (uid == null ? object.getMetadata().getName() : uid) + "/" + reason + "/" + message;
    if (recent.asMap().putIfAbsent(key, Boolean.TRUE) != null) {
      return;
    }
    try {
      writer.execute(() -> write(object, type, reason, message));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      dropped.increment();
    }
  }

  private void write(HasMetadata object, String type, String reason, String message) {
    String namespace = object.getMetadata().getNamespace() == null ? "default" : object.getMetadata().getNamespace();
    String now = clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
    String name = object.getMetadata().getName() + "." + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()).substring(0, 12);
    var event = new EventBuilder()
        .withNewMetadata().withName(name).withNamespace(namespace).endMetadata()
        .withInvolvedObject(new ObjectReferenceBuilder().withApiVersion(object.getApiVersion()).withKind(object.getKind())
            .withName(object.getMetadata().getName()).withNamespace(object.getMetadata().getNamespace())
            .withUid(object.getMetadata().getUid()).build())
        .withType(type).withReason(reason).withMessage(message.length() > 1024 ? message.substring(0, 1021) + "..." : message)
        .withFirstTimestamp(now).withLastTimestamp(now).withCount(1)
        .withNewSource().withComponent(component).withHost(host).endSource()
        .withReportingComponent(component).withReportingInstance(host)
        .build();
    try {
      client.v1().events().inNamespace(namespace).resource(event).create();
    } catch (RuntimeException e) {
      LOG.debug("event {} {} on {} not written: {}", type, reason, object.getMetadata().getName(), e.toString());
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
