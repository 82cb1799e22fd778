package dev.dovetail.state;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How far behind the API server the informers run: for each event, the time between the object's last
 * write (the newest managedFields timestamp, one-second resolution) and its arrival here.
 */
final class InformerLag {
  private final MeterRegistry registry;
  private final Map<String, DistributionSummary> byResource = new ConcurrentHashMap<>();
  // Objects last written before the informers started arrive with the initial list: their age is not lag.
  private final Instant startedAt = Instant.now().minusSeconds(1);

  InformerLag(MeterRegistry registry) {
    this.registry = registry;
  }

  MeterRegistry registry() {
    return registry;
  }

  void observe(String resource, HasMetadata obj) {
    List<ManagedFieldsEntry> fields = obj.getMetadata().getManagedFields();
    if (fields == null || fields.isEmpty()) {
      return;
    }
    Instant newest = null;
    for (ManagedFieldsEntry f : fields) {
      if (f.getTime() == null) {
        continue;
      }
      try {
        Instant t = Instant.parse(f.getTime());
        if (newest == null || t.isAfter(newest)) {
          newest = t;
        }
      } catch (DateTimeParseException e) {
        return;
      }
    }
    if (newest == null || newest.isBefore(startedAt)) {
      return;
    }
    double seconds = Math.max(0, Duration.between(newest, Instant.now()).toMillis() / 1000.0);
    byResource.computeIfAbsent(resource, r -> DistributionSummary.builder("dovetail.informer.lag")
        .description("Seconds between an object's last write and the informer's event for it (1 s resolution)")
        .baseUnit("seconds").tag("resource", r).publishPercentiles(0.5, 0.99).register(registry)).record(seconds);
  }
}
