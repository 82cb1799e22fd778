package dev.dovetail.api.config.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.dovetail.api.karpenter.v1.Budget;
import dev.dovetail.api.karpenter.v1.Disruption;
import dev.dovetail.api.karpenter.v1.Durations;
import dev.dovetail.api.schema.ListType;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** Node lifetime, bin-packing and disruption settings for managed NodePools. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!(has(self.after) && has(self.nodeDeletionDelay))", message = "set consolidation.after or the legacy consolidation.nodeDeletionDelay, not both")
public record Consolidation(
    @JsonPropertyDescription("Node TTL: the longest a managed node lives before it is replaced (expireAfter), such as 48h, or Never.")
    @Default("720h") @Pattern(Durations.DURATION_OR_NEVER_PATTERN)
    String nodeExpiry,
    @JsonPropertyDescription("Node deletion criteria: WhenEmpty (Empty) removes only empty nodes; WhenEmptyOrUnderutilized (EmptyOrUnderUtilized, Underutilized) also consolidates under-used nodes. Case-insensitive.")
    @Default("WhenEmptyOrUnderutilized")
    @ValidationRule(value = "self.lowerAscii() in ['whenempty', 'empty', 'whenemptyorunderutilized', 'emptyorunderutilized', 'underutilized']",
        message = "policy must be WhenEmpty (Empty) or WhenEmptyOrUnderutilized (EmptyOrUnderUtilized, Underutilized)")
    String policy,
    @JsonPropertyDescription("Node deletion delay: how long a node stays empty or under-used before removal (consolidateAfter), such as 10m. Unset: managed pools never consolidate.")
    @Pattern(Durations.DURATION_OR_NEVER_PATTERN)
    String after,
    @JsonPropertyDescription("Legacy node deletion delay in minutes; use after instead.")
    @Min(0)
    Integer nodeDeletionDelay,
    @JsonPropertyDescription("Disruption budgets copied to managed NodePools.")
    @Size(max = 50) @ListType(ListType.Kind.ATOMIC)
    @ValidationRule(value = "self.all(x, has(x.schedule) == has(x.duration))", message = "'schedule' must be set with 'duration'")
    List<Budget> budgets,
    @JsonPropertyDescription("Replace spot nodes by cheaper spot instance types when they become available.")
    @Default("false")
    Boolean enableSpotToSpot,
    @JsonPropertyDescription("Bin-packing by evicting pods from under-used nodes so the nodes can be removed.")
    PodEvictor podEvictor) {

  public Consolidation {
    budgets = budgets == null ? null : List.copyOf(budgets);
  }

  /** The node deletion delay as a Karpenter duration: {@code after}, else the legacy minutes; empty when neither is set. */
  @JsonIgnore
  public Optional<String> deletionDelay() {
    if (after != null) {
      return Optional.of(after);
    }
    return Optional.ofNullable(nodeDeletionDelay).map(m -> m + "m");
  }

  /** The deletion criteria as a Karpenter consolidation policy. */
  @JsonIgnore
  public Disruption.ConsolidationPolicy consolidationPolicy() {
    if (policy == null) {
      return Disruption.ConsolidationPolicy.WhenEmptyOrUnderutilized;
    }
    return switch (policy.toLowerCase(Locale.ROOT)) {
      case "whenempty", "empty" -> Disruption.ConsolidationPolicy.WhenEmpty;
      case "whenemptyorunderutilized", "emptyorunderutilized", "underutilized" -> Disruption.ConsolidationPolicy.WhenEmptyOrUnderutilized;
      default -> throw new IllegalArgumentException("unknown consolidation policy '" + policy + "'");
    };
  }
}
