package dev.dovetail.api.harness.v1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.Locale;

/** Desired spot/on-demand placement of workloads in a namespace, or in the whole cluster. */
@JsonClassDescription("WorkloadDistributionRuleSpec says how the replicas of each workload are split between spot and on-demand capacity.")
@JsonInclude(JsonInclude.Include.NON_NULL)
public record WorkloadDistributionRuleSpec(
    @JsonPropertyDescription("Namespace the rule governs. Unset makes this the cluster-level rule, the default for every namespace without a rule of its own.")
    @Size(max = 63) @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    String namespace,
    @JsonPropertyDescription("The spot/on-demand split.")
    @Required
    @ValidationRule(value = "self.spot + self.ondemand == 100", message = "distribution.spot and distribution.ondemand must add up to 100")
    Distribution distribution,
    @JsonPropertyDescription("Which workloads the split applies to: SpotReady (only workloads with more than one replica; single replicas stay on on-demand) or All. Case-insensitive.")
    @Default("SpotReady")
    @ValidationRule(value = "self.lowerAscii() in ['spotready', 'all']", message = "selector must be SpotReady or All")
    String selector,
    @JsonPropertyDescription("Replicas of each workload that always run on on-demand; only the rest is split by percentage.")
    @Default("0") @Min(0)
    Integer baseOnDemandCapacity,
    @JsonPropertyDescription("CostOptimized packs spot replicas onto the fewest, cheapest nodes (EC2 lowest-price); LeastInterrupted spreads them across nodes and the spot pools least likely to be interrupted (EC2 capacity-optimized).")
    @Default("CostOptimized")
    Strategy strategy) {

  /** How spot capacity is chosen and replicas are placed. */
  public enum Strategy { CostOptimized, LeastInterrupted }

  /** Selector values, read case-insensitively. */
  public enum Selector { SpotReady, All }

  /** The selector as a value; {@code SpotReady} when unset. */
  @JsonIgnore
  public Selector selectorValue() {
    if (selector == null) {
      return Selector.SpotReady;
    }
    return switch (selector.toLowerCase(Locale.ROOT)) {
      case "all" -> Selector.All;
      case "spotready" -> Selector.SpotReady;
      default -> throw new IllegalArgumentException("selector must be SpotReady or All, not '" + selector + "'");
    };
  }

  /** True for the cluster-level (default) rule. */
  @JsonIgnore
  public boolean isClusterLevel() {
    return namespace == null || namespace.isEmpty();
  }
}
