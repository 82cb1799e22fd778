package dev.dovetail.api.config.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.schema.Format;
import dev.dovetail.api.schema.ListType;
import java.util.List;

/** Observed state of the orchestrator configuration. */
@JsonClassDescription("ClusterOrchestratorConfigStatus reports whether the configuration is in force and what was derived from it.")
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ClusterOrchestratorConfigStatus(
    @JsonPropertyDescription("The configuration generation this status describes.")
    @Format("int64")
    Long observedGeneration,
    @JsonPropertyDescription("Default NodePool limits computed from the cluster (twice its allocatable CPU and memory) when none are configured; raised as the cluster grows, never lowered.")
    ComputedLimits computedNodePoolLimits,
    @JsonPropertyDescription("The NodePools labelled dovetail.dev/orchestrated=true, whose disruption settings and node TTL this configuration writes.")
    @ListType(ListType.Kind.ATOMIC)
    List<String> nodePools,
    @JsonPropertyDescription("Each Reserved Instance commitment and how many of its instances on-demand nodes use now.")
    @ListType(ListType.Kind.ATOMIC)
    List<CommitmentUse> commitments,
    @JsonPropertyDescription("Each Savings Plan of the account (read by the AWS provider) and how much of its hourly commitment on-demand nodes use now.")
    @ListType(ListType.Kind.ATOMIC)
    List<SavingsPlanUse> savingsPlans,
    @JsonPropertyDescription("Ready, and ScaleDownEnabled (False when bin-packing or a node deletion delay is missing, so the cluster never scales down).")
    @ListType(value = ListType.Kind.MAP, mapKeys = "type")
    List<Condition> conditions) {
  public ClusterOrchestratorConfigStatus {
    nodePools = nodePools == null ? null : List.copyOf(nodePools);
    commitments = commitments == null ? null : List.copyOf(commitments);
    savingsPlans = savingsPlans == null ? null : List.copyOf(savingsPlans);
    conditions = conditions == null ? null : List.copyOf(conditions);
  }

  public ClusterOrchestratorConfigStatus(Long observedGeneration, ComputedLimits computedNodePoolLimits, List<String> nodePools,
      List<CommitmentUse> commitments, List<Condition> conditions) {
    this(observedGeneration, computedNodePoolLimits, nodePools, commitments, null, conditions);
  }

  /** Limits computed from the cluster. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record ComputedLimits(
      @JsonPropertyDescription("CPU ceiling in whole cores.") String cpu,
      @JsonPropertyDescription("Memory ceiling in whole GiB.") String memory,
      @JsonPropertyDescription("When the limits were computed.") @Format("date-time") String computedAt) {
  }

  /** A commitment and its use. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record CommitmentUse(
      @JsonPropertyDescription("The instance type reserved.") String instanceType,
      @JsonPropertyDescription("The zone of a zonal reservation.") String availabilityZone,
      @JsonPropertyDescription("Instances reserved.") Integer count,
      @JsonPropertyDescription("On-demand nodes of the type (in the zone) the reservation covers now, at most count.") Integer inUse) {
  }

  /** A Savings Plan and its use. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record SavingsPlanUse(
      @JsonPropertyDescription("The Savings Plan's ID.") String savingsPlanId,
      @JsonPropertyDescription("Compute or EC2Instance.") String savingsPlanType,
      @JsonPropertyDescription("The instance family an EC2Instance plan covers.") String instanceFamily,
      @JsonPropertyDescription("The plan's hourly commitment in USD, such as 1.5000.") String commitmentPerHour,
      @JsonPropertyDescription("The plan rates of the on-demand nodes it covers now, in USD per hour (at most the commitment).") String inUsePerHour) {
  }
}
