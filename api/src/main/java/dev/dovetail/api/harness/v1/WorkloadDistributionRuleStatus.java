package dev.dovetail.api.harness.v1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.schema.Format;
import dev.dovetail.api.schema.ListType;
import java.util.List;

/** Observed state of a WorkloadDistributionRule. */
@JsonClassDescription("WorkloadDistributionRuleStatus reports whether the rule is in force and how the replicas it governs are placed.")
@JsonInclude(JsonInclude.Include.NON_NULL)
public record WorkloadDistributionRuleStatus(
    @JsonPropertyDescription("The rule generation this status describes.")
    @Format("int64")
    Long observedGeneration,
    @JsonPropertyDescription("Number of workloads the rule currently governs.")
    @Format("int32")
    Integer workloads,
    @JsonPropertyDescription("Replicas of the governed workloads by capacity type.")
    ReplicaCounts replicas,
    @JsonPropertyDescription("Ready: the rule is valid and in force (False for a duplicate rule for the same namespace; the oldest wins).")
    @ListType(value = ListType.Kind.MAP, mapKeys = "type")
    List<Condition> conditions) {

  /** Replica counts by capacity type. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record ReplicaCounts(
      @JsonPropertyDescription("Replicas running on spot capacity.") @Format("int32") Integer spot,
      @JsonPropertyDescription("Replicas running on on-demand capacity.") @JsonProperty("onDemand") @Format("int32") Integer onDemand,
      @JsonPropertyDescription("Spot-designated replicas running on on-demand capacity because no spot capacity was available.") @Format("int32") Integer fallback) {
  }
}
