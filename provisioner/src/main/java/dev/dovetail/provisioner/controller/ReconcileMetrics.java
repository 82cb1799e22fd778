package dev.dovetail.provisioner.controller;

import dev.dovetail.runtime.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;

/** controller-runtime's reconcile metrics of one controller (Karpenter exposes them too): outcomes and time taken. */
record ReconcileMetrics(Counter succeeded, Counter failed, Timer duration) {
  static ReconcileMetrics of(String controller, MeterRegistry registry) {
    String help = "Total number of reconciliations per controller";
    return new ReconcileMetrics(
        Counter.builder("controller_runtime_reconcile").description(help).tag("controller", controller).tag("result", "success").register(registry),
        Counter.builder("controller_runtime_reconcile").description(help).tag("controller", controller).tag("result", "error").register(registry),
        Metrics.histogram("controller_runtime_reconcile_time", "Length of time per reconciliation per controller").tag("controller", controller)
            .register(registry));
  }

  /** One reconcile that started at {@code startNanos} ({@link System#nanoTime}) ended, well or not. */
  void record(long startNanos, boolean ok) {
    duration.record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
    (ok ? succeeded : failed).increment();
  }
}
