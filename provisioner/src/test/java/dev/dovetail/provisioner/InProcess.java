package dev.dovetail.provisioner;

import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.provisioner.metrics.KarpenterMetrics;
import dev.dovetail.runtime.OpsServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;

/**
 * The provisioner and the scheduler extender in this JVM, sharing one cluster view and one metrics
 * registry, as the E2E classes run them: the extender listens where manifests/scheduler/local-extender.yaml
 * has kube-scheduler call it.
 */
record InProcess(PrometheusMeterRegistry registry, Operator operator, LocalExtender extender) implements AutoCloseable {
  static InProcess start(KubernetesClient client, Operator.Settings settings) throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Operator operator = new Operator(settings, client, Catalog.bundled(), registry, Clock.systemUTC()).start();
    try {
      return new InProcess(registry, operator, LocalExtender.start(operator.caches().view(), registry));
    } catch (Exception e) {
      operator.close();
      throw e;
    }
  }

  /** What /metrics serves: the registry with Karpenter's names restored. */
  String scrape() {
    return OpsServer.rename(registry.scrape(), KarpenterMetrics.RENAMES);
  }

  @Override
  public void close() throws Exception {
    try {
      extender.close();
    } finally {
      operator.close();
    }
  }
}
