package dev.dovetail.provisioner.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.runtime.OpsServer;
import dev.dovetail.runtime.PrometheusText;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Labelled gauges of NodePools that are gone leave the scrape; Karpenter's metrics that only an event writes have
 * Karpenter's names and labels in the exposition.
 */
class KarpenterMetricsTest {
  @Test
  void eventDrivenMetricsHaveKarpentersNamesAndLabels() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    KarpenterMetrics metrics = new KarpenterMetrics(registry);
    metrics.nodeClaimUnhealthy("Ready", "default", "spot", "ami-1");
    metrics.disruptionFailedValidation("single");
    metrics.launchFailure("us-east-1a", "spot", "InsufficientCapacity");
    metrics.cloudProviderError("Create", "aws", "ThrottlingException");
    metrics.cloudProviderDuration("Create", "aws").record(Duration.ofMillis(30));
    metrics.nodeDrained("default");
    metrics.podDrained("Underutilized");
    metrics.evictionRequest(429);
    metrics.nodeLifetime("default", Duration.ofHours(2));
    metrics.terminationDuration("default", Duration.ofSeconds(40));
    // As the scrape serves it: with the renames the provisioner gives its OpsServer.
    List<PrometheusText.Sample> samples = PrometheusText.parse(OpsServer.rename(registry.scrape(), KarpenterMetrics.RENAMES));

    Map<String, Set<String>> karpenters = Map.ofEntries(
        Map.entry("karpenter_nodeclaims_unhealthy_disrupted_total", Set.of("condition", "nodepool", "capacity_type", "image_id")),
        Map.entry("karpenter_voluntary_disruption_failed_validations_total", Set.of("consolidation_type")),
        Map.entry("karpenter_cloudprovider_instance_launch_failures_total", Set.of("zone", "zone_id", "capacity_type", "reason")),
        Map.entry("karpenter_cloudprovider_errors_total", Set.of("controller", "method", "provider", "error")),
        Map.entry("karpenter_cloudprovider_duration_seconds_bucket", Set.of("controller", "method", "provider", "le")),
        Map.entry("karpenter_nodes_drained_total", Set.of("nodepool")),
        Map.entry("karpenter_pods_drained_total", Set.of("reason")),
        Map.entry("karpenter_pods_eviction_requests_total", Set.of("code")),
        Map.entry("karpenter_nodes_lifetime_duration_seconds_bucket", Set.of("nodepool", "le")),
        Map.entry("karpenter_nodeclaims_termination_duration_seconds_bucket", Set.of("nodepool", "le")),
        Map.entry("karpenter_build_info", Set.of("version", "goversion", "goarch", "commit")));
    karpenters.forEach((name, labels) -> assertThat(samples.stream().filter(s -> s.name().equals(name)).map(s -> s.labels().keySet()).toList())
        .as(name).isNotEmpty().allSatisfy(l -> assertThat(l).isEqualTo(labels)));
    // Karpenter's duration buckets: 40 s of termination lands in the 45 s bucket, not only in +Inf.
    assertThat(PrometheusText.sum(samples, "karpenter_nodeclaims_termination_duration_seconds_bucket", Map.of("le", "45.0"))).isEqualTo(1);
    assertThat(PrometheusText.sum(samples, "karpenter_nodeclaims_termination_duration_seconds_bucket", Map.of("le", "30.0"))).isZero();
  }

  @Test
  void terminationSeriesStartAtZeroWhenTheirClaimLaunchesAndItsNodeRegisters() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    KarpenterMetrics metrics = new KarpenterMetrics(registry);
    Map<String, String> claimSeries = Map.of("nodepool", "default", "capacity_type", "spot", "zone", "us-east-1a");
    Map<String, String> nodeSeries = Map.of("nodepool", "default", "zone", "us-east-1a");
    metrics.nodeClaimLaunched("default", "spot", "us-east-1a");
    metrics.nodeCreated("default", "us-east-1a");
    // Present at 0 before anything terminates: a dashboard's increase() then sees the first termination.
    List<PrometheusText.Sample> before = PrometheusText.parse(OpsServer.rename(registry.scrape(), KarpenterMetrics.RENAMES));
    assertThat(before).filteredOn(s -> s.name().equals("karpenter_nodeclaims_terminated_total")).singleElement()
        .satisfies(s -> assertThat(s.labels()).isEqualTo(claimSeries)).satisfies(s -> assertThat(s.value()).isZero());
    assertThat(before).filteredOn(s -> s.name().equals("karpenter_nodes_terminated_total")).singleElement()
        .satisfies(s -> assertThat(s.labels()).isEqualTo(nodeSeries)).satisfies(s -> assertThat(s.value()).isZero());

    metrics.nodeClaimTerminated("default", "spot", "us-east-1a");
    metrics.nodeTerminated("default", "us-east-1a");
    List<PrometheusText.Sample> after = PrometheusText.parse(OpsServer.rename(registry.scrape(), KarpenterMetrics.RENAMES));
    assertThat(PrometheusText.sum(after, "karpenter_nodeclaims_terminated_total", claimSeries)).isEqualTo(1);
    assertThat(PrometheusText.sum(after, "karpenter_nodes_terminated_total", nodeSeries)).isEqualTo(1);
  }

  @Test
  void aDeletedPoolsBudgetSeriesGoAndTheOthersStay() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    KarpenterMetrics metrics = new KarpenterMetrics(registry);
    metrics.allowedDisruptions("kept", "empty", 2);
    metrics.allowedDisruptions("gone", "empty", 1);
    metrics.nodesConsumingBudgets("gone", "drifted", 1);
    metrics.disruptionEligible("empty", 3);

    metrics.retainPools(Set.of("kept"));

    assertThat(registry.find("karpenter.nodepools.allowed.disruptions").tag("nodepool", "gone").gauge()).isNull();
    assertThat(registry.find("karpenter.nodepools.nodes.consuming.budgets").tag("nodepool", "gone").gauge()).isNull();
    assertThat(registry.find("karpenter.nodepools.allowed.disruptions").tag("nodepool", "kept").gauge().value()).isEqualTo(2);
    assertThat(registry.find("karpenter.voluntary.disruption.eligible.nodes").tag("reason", "empty").gauge().value()).as("no pool label").isEqualTo(3);
    // A pool that comes back gets its series again.
    metrics.allowedDisruptions("gone", "empty", 4);
    assertThat(registry.find("karpenter.nodepools.allowed.disruptions").tag("nodepool", "gone").gauge().value()).isEqualTo(4);
  }
}
