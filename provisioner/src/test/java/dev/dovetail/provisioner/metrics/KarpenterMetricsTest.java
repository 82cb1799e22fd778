package dev.dovetail.provisioner.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Labelled gauges of NodePools that are gone leave the scrape. */
class KarpenterMetricsTest {
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
