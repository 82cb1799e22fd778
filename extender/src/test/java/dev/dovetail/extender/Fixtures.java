package dev.dovetail.extender;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.catalog.InterruptionBucket;
import dev.dovetail.api.distribution.DistributionRule;
import dev.dovetail.api.distribution.RuleSet;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec.Selector;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec.Strategy;
import dev.dovetail.api.scheduling.Resources;
import dev.dovetail.state.NodeFacts;
import java.time.Instant;
import java.util.Optional;

/** Nodes and rules for extender tests. */
public final class Fixtures {
  private Fixtures() {
  }

  public static NodeFacts node(String name, CapacityType type, String zone, String instanceType) {
    return node(name, type, zone, instanceType, false);
  }

  public static NodeFacts node(String name, CapacityType type, String zone, String instanceType, boolean fallback) {
    var known = Catalog.bundled().get(instanceType).orElseThrow();
    int rank = type.isSpot() ? InterruptionBucket.rank(known.interruption()) : 0;
    return new NodeFacts(name, Optional.of(type), fallback, zone, instanceType, "general", known.pricePerHour(type), rank,
        Resources.of("cpu", known.vcpu() + "", "memory", known.memoryMiB() + "Mi", "pods", "110"), true);
  }

  public static RuleSet.Entry rule(String name, String namespace, int spot, int base, Selector selector, Strategy strategy) {
    return new RuleSet.Entry(name, Instant.parse("2026-11-01T00:00:00Z"), Optional.ofNullable(namespace),
        new DistributionRule(spot, 100 - spot, base, selector, strategy));
  }
}
