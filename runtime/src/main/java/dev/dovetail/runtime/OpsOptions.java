package dev.dovetail.runtime;

import picocli.CommandLine.Option;

/** Ports of the operational endpoints, named and numbered like Karpenter's. */
public final class OpsOptions {
  @Option(names = "--metrics-port", defaultValue = "${env:METRICS_PORT:-8080}",
      description = "Port of the Prometheus endpoint GET /metrics (0 picks a free port). Default: ${DEFAULT-VALUE}.")
  public int metricsPort;

  @Option(names = "--health-probe-port", defaultValue = "${env:HEALTH_PROBE_PORT:-8081}",
      description = "Port of GET /healthz (liveness) and GET /readyz (readiness) (0 picks a free port). Default: ${DEFAULT-VALUE}.")
  public int healthProbePort;

  @Option(names = "--bind-address", defaultValue = "${env:DOVETAIL_BIND_ADDRESS:-0.0.0.0}",
      description = "Address the HTTP endpoints listen on. Default: ${DEFAULT-VALUE}.")
  public String bindAddress;
}
