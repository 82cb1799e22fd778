package dev.dovetail.state;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How far behind the API server the informers run: for each object created while they watch, the time
 * between its creation (one-second resolution) and its first event here. Cheap enough for every add.
 */
final class InformerLag {
  private final MeterRegistry registry;
  private final Map<String, DistributionSummary> byResource = new ConcurrentHashMap<>();
  // Objects created before the informers started arrive with the initial list: their age is not lag.
  private final Instant startedAt = Instant.now().minusSeconds(1);

  InformerLag(MeterRegistry registry) {
    this.registry = registry;
  }

  MeterRegistry registry() {
    return registry;
  }

  void created(String resource, HasMetadata obj) {
    String created = obj.getMetadata().getCreationTimestamp();
    if (created == null) {
      return;
    }
    Instant at;
    try {
      at = Instant.parse(created);
    } catch (DateTimeParseException e) {
      return;
    }
    if (at.isBefore(startedAt)) {
      return;
    }
    double seconds = Math.max(0, Duration.between(at, Instant.now()).toMillis() / 1000.0);
    byResource.computeIfAbsent(resource, r -> DistributionSummary.builder("dovetail.informer.lag")
        .description("Seconds between an object's creation and the informer's first event for it (1 s resolution)")
        .baseUnit("seconds").tag("resource", r).publishPercentiles(0.5, 0.99).register(registry)).record(seconds);
  }
}
