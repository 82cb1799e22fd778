package dev.dovetail.api.karpenter.v1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.dovetail.api.schema.Elements;
import dev.dovetail.api.schema.Format;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.Map;

/** Desired state of a NodePool. */
@JsonClassDescription("NodePoolSpec is the configuration of a pool of nodes: what they look like, how many resources they may add up to, and when they may be disrupted.")
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "has(self.replicas) == has(oldSelf.replicas)",
    message = "Cannot transition NodePool between static (replicas set) and dynamic (replicas unset) provisioning modes")
@ValidationRule(value = "!has(self.replicas) || (!has(self.limits) || size(self.limits) == 0 || (size(self.limits) == 1 && 'nodes' in self.limits))",
    message = "only 'limits.nodes' is supported on static NodePools")
@ValidationRule(value = "!has(self.replicas) || !has(self.weight)", message = "'weight' is not supported on static NodePools")
public record NodePoolSpec(
    @JsonPropertyDescription("The template every NodeClaim of this pool is created from.")
    @Required
    NodeClaimTemplate template,
    @JsonPropertyDescription("Consolidation and disruption-budget settings.")
    @Default("{\"consolidateAfter\":\"0s\"}")
    Disruption disruption,
    @JsonPropertyDescription("Ceiling on the resources (cpu, memory, nvidia.com/gpu, nodes, ...) all nodes of the pool may add up to; no launch goes past it.")
    @Elements(pattern = Quantities.PATTERN)
    Map<String, Quantity> limits,
    @JsonPropertyDescription("Priority among pools that fit a pod, 1-100; higher is tried first. Unset ranks below every pool that sets it.")
    @Min(1) @Max(100) @Format("int32")
    Integer weight,
    @JsonPropertyDescription("Fixed node count for a static pool (StaticCapacity feature gate); cannot be added or removed after creation.")
    @Min(0) @Format("int64")
    Long replicas) {

  public NodePoolSpec {
    limits = limits == null ? null : Map.copyOf(limits);
  }
}
