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
    @JsonPropertyDescription("Default NodePool limits computed from the cluster (twice its allocatable CPU and memory) when none are configured; kept until recomputed on request.")
    ComputedLimits computedNodePoolLimits,
    @JsonPropertyDescription("The NodePools labelled dovetail.dev/orchestrated=true, whose disruption settings and node TTL this configuration writes.")
    @ListType(ListType.Kind.ATOMIC)
    List<String> nodePools,
    @JsonPropertyDescription("Ready, and ScaleDownEnabled (False when bin-packing or a node deletion delay is missing, so the cluster never scales down).")
    @ListType(value = ListType.Kind.MAP, mapKeys = "type")
    List<Condition> conditions) {
  public ClusterOrchestratorConfigStatus {
    nodePools = nodePools == null ? null : List.copyOf(nodePools);
    conditions = conditions == null ? null : List.copyOf(conditions);
  }

  /** Limits computed from the cluster. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record ComputedLimits(
      @JsonPropertyDescription("CPU ceiling in whole cores.") String cpu,
      @JsonPropertyDescription("Memory ceiling in whole GiB.") String memory,
      @JsonPropertyDescription("When the limits were computed.") @Format("date-time") String computedAt) {
  }
}
