package dev.dovetail.runtime;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.stream.Stream;

/** The Prometheus registry of a component, with JVM and process metrics and a build-info gauge. */
public final class Metrics {
  private Metrics() {
  }

  /**
   * Bucket bounds of Karpenter's duration histograms (5 ms to 10 min), so quantiles over {@code _bucket} read the same
   * in Karpenter's dashboards.
   */
  private static final Duration[] DURATION_BUCKETS = Stream.of(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 20.0,
      25.0, 30.0, 45.0, 60.0, 120.0, 180.0, 240.0, 300.0, 450.0, 600.0).map(s -> Duration.ofNanos(Math.round(s * 1e9))).toArray(Duration[]::new);

  /** A timer exposed as a histogram ({@code _bucket}, {@code _sum}, {@code _count}) with Karpenter's duration buckets. */
  public static Timer.Builder histogram(String name, String help) {
    return Timer.builder(name).description(help).serviceLevelObjectives(DURATION_BUCKETS).minimumExpectedValue(DURATION_BUCKETS[0])
        .maximumExpectedValue(DURATION_BUCKETS[DURATION_BUCKETS.length - 1]);
  }

  public static PrometheusMeterRegistry registry(String component, String version) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new ClassLoaderMetrics().bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    Gauge.builder("dovetail.build.info", () -> 1)
        .description("Always 1; the labels say which component and version is running.")
        .tag("component", component).tag("version", version).tag("java_version", Runtime.version().toString())
        .register(registry);
    return registry;
  }
}
