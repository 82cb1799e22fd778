package dev.dovetail.runtime;

import dev.dovetail.runtime.events.EventRecorder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;

/**
 * Kubernetes Events for the components on the fabric8 client (provisioner, extender): the shared
 * {@link EventRecorder} (background writes, dedupe window, dropped-events counter, the Event itself) about
 * fabric8 objects, written through the fabric8 client ({@link KubeClientEvents}).
 */
public final class Recorder implements AutoCloseable {
  public static final Duration DEDUPE_WINDOW = EventRecorder.DEDUPE_WINDOW;
  private static final int QUEUE = 10_000;

  private final EventRecorder events;

  /** @param component the events' source, e.g. {@code dovetail-provisioner} */
  public Recorder(KubernetesClient client, String component, Clock clock, String host, MeterRegistry registry) {
    this.events = new EventRecorder(new KubeClientEvents(client), component, clock, host, registry, QUEUE);
  }

  public void normal(HasMetadata object, String reason, String message) {
    events.normal(involved(object), reason, message);
  }

  /** A normal event passed through {@code limit} ({@link EventRecorder.RateLimit}). */
  public void normal(HasMetadata object, String reason, String message, EventRecorder.RateLimit limit) {
    events.normal(involved(object), reason, message, limit);
  }

  public void warning(HasMetadata object, String reason, String message) {
    events.warning(involved(object), reason, message);
  }

  static EventRecorder.Involved involved(HasMetadata object) {
    return new EventRecorder.Involved(object.getApiVersion(), object.getKind(), object.getMetadata().getNamespace(),
        object.getMetadata().getName(), object.getMetadata().getUid());
  }

  @Override
  public void close() {
    events.close();
  }
}
