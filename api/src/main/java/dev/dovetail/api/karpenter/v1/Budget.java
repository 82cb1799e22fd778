package dev.dovetail.api.karpenter.v1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.dovetail.api.schema.ListType;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.List;

/**
 * How many of a NodePool's nodes may be voluntarily disrupted at once, optionally only for some
 * reasons and only while a cron schedule is active.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Budget(
    @JsonPropertyDescription("Reasons this budget limits (Underutilized, Empty, Drifted); unset means all of them.")
    @Size(max = 50) @ListType(ListType.Kind.SET)
    List<Reason> reasons,
    @JsonPropertyDescription("Nodes that may be disrupting at once: a whole number, or a percentage (0-100%) of the pool's nodes, rounded up.")
    @Required @Default("10%") @Pattern("^((100|[0-9]{1,2})%|[0-9]+)$")
    String nodes,
    @JsonPropertyDescription("When the budget becomes active: a 5-field cron expression in UTC or @annually, @yearly, @monthly, @weekly, @daily, @midnight, @hourly. Requires duration.")
    @Pattern("^(@(annually|yearly|monthly|weekly|daily|midnight|hourly))|((.+)\\s(.+)\\s(.+)\\s(.+)\\s(.+))$")
    String schedule,
    @JsonPropertyDescription("How long the budget stays active after each schedule hit, in hours and minutes (10m, 1h30m). Requires schedule.")
    @Pattern(Durations.BUDGET_DURATION_PATTERN)
    String duration) {

  /** Disruption reasons a budget can name. */
  public enum Reason { Underutilized, Empty, Drifted }

  public Budget {
    reasons = reasons == null ? null : List.copyOf(reasons);
  }

  public static Budget nodes(String nodes) {
    return new Budget(null, nodes, null, null);
  }
}
