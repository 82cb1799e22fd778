package dev.dovetail.api.distribution;

import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec.Selector;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec.Strategy;

/**
 * A spot/on-demand split in force for a workload: percentages, base on-demand replicas, which
 * workloads it applies to and how spot capacity is chosen.
 */
public record DistributionRule(int spotPercent, int onDemandPercent, int baseOnDemand, Selector selector, Strategy strategy) {
  public DistributionRule {
    if (spotPercent < 0 || onDemandPercent < 0 || spotPercent + onDemandPercent != 100) {
      throw new IllegalArgumentException("spot and on-demand percentages must be 0-100 and add up to 100, not "
          + spotPercent + " + " + onDemandPercent);
    }
    if (baseOnDemand < 0) {
      throw new IllegalArgumentException("base on-demand capacity must not be negative: " + baseOnDemand);
    }
    if (selector == null || strategy == null) {
      throw new IllegalArgumentException("selector and strategy are required");
    }
  }

  public static DistributionRule of(int spotPercent, int baseOnDemand, Selector selector) {
    return new DistributionRule(spotPercent, 100 - spotPercent, baseOnDemand, selector, Strategy.CostOptimized);
  }

  /** The rule a WorkloadDistributionRule's spec describes, with the CRD's defaults for unset fields. */
  public static DistributionRule from(WorkloadDistributionRuleSpec spec) {
    return new DistributionRule(
        spec.distribution().spot(),
        spec.distribution().ondemand(),
        spec.baseOnDemandCapacity() == null ? 0 : spec.baseOnDemandCapacity(),
        spec.selectorValue(),
        spec.strategy() == null ? Strategy.CostOptimized : spec.strategy());
  }
}
