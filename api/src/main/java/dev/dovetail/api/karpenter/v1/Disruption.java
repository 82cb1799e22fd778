package dev.dovetail.api.karpenter.v1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.dovetail.api.schema.ListType;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

/** When and how fast a NodePool's nodes may be voluntarily replaced or removed. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Disruption(
    @JsonPropertyDescription("How long a node must see no pod scheduled or removed before it may be consolidated: a duration (30s, 10m, 1h) or Never to turn consolidation off.")
    @Required @Pattern(Durations.DURATION_OR_NEVER_PATTERN)
    String consolidateAfter,
    @JsonPropertyDescription("Which nodes consolidation may remove or replace: WhenEmpty (only nodes without workload pods), WhenEmptyOrUnderutilized (also nodes whose pods fit elsewhere or on a cheaper node) or Balanced (only when the saving outweighs the disruption).")
    @Default("WhenEmptyOrUnderutilized")
    ConsolidationPolicy consolidationPolicy,
    @JsonPropertyDescription("Limits on how many nodes may be disrupted at once; the most restrictive active budget wins.")
    @Default("[{\"nodes\":\"10%\"}]") @Size(max = 50) @ListType(ListType.Kind.ATOMIC)
    @ValidationRule(value = "self.all(x, has(x.schedule) == has(x.duration))", message = "'schedule' must be set with 'duration'")
    List<Budget> budgets) {

  /** Consolidation policies. {@code Balanced} arrived in Karpenter v1.14. */
  public enum ConsolidationPolicy { WhenEmpty, WhenEmptyOrUnderutilized, Balanced }

  public Disruption {
    budgets = budgets == null ? null : List.copyOf(budgets);
  }
}
