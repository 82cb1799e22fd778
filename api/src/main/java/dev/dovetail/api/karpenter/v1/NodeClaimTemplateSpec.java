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

/** The NodeClaim part of a NodePool template. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record NodeClaimTemplateSpec(
    @JsonPropertyDescription("Taints put on every node of the pool; pods must tolerate them to land there.")
    @ListType(ListType.Kind.ATOMIC)
    List<Taint> taints,
    @JsonPropertyDescription("Taints present while a node starts up and removed by another agent (a CNI, a GPU driver) when it is ready; pods need not tolerate them to get capacity.")
    @ListType(ListType.Kind.ATOMIC)
    List<Taint> startupTaints,
    @JsonPropertyDescription("Constraints on the nodes the pool may launch, over well-known labels (capacity type, instance type, zone, architecture, instance family, ...) or the pool's own labels.")
    @Required @Size(max = 100) @ListType(ListType.Kind.ATOMIC)
    @ValidationRule(value = NodeSelectorRequirementWithMinValues.IN_NEEDS_VALUE_RULE, message = NodeSelectorRequirementWithMinValues.IN_NEEDS_VALUE_MESSAGE)
    @ValidationRule(value = NodeSelectorRequirementWithMinValues.BOUND_NEEDS_INTEGER_RULE, message = NodeSelectorRequirementWithMinValues.BOUND_NEEDS_INTEGER_MESSAGE)
    @ValidationRule(value = NodeSelectorRequirementWithMinValues.MIN_VALUES_RULE, message = NodeSelectorRequirementWithMinValues.MIN_VALUES_MESSAGE)
    @ValidationRule(value = "self.all(x, x.key != \"karpenter.sh/nodepool\")", message = "label \"karpenter.sh/nodepool\" is restricted")
    List<NodeSelectorRequirementWithMinValues> requirements,
    @JsonPropertyDescription("The cloud-specific node class (for AWS an EC2NodeClass) with the pool's launch settings.")
    @Required
    @ValidationRule(value = "self.group == oldSelf.group", message = "nodeClassRef.group is immutable")
    @ValidationRule(value = "self.kind == oldSelf.kind", message = "nodeClassRef.kind is immutable")
    NodeClassReference nodeClassRef,
    @JsonPropertyDescription("Longest a node may drain before it is forcibly removed, even past PDBs and karpenter.sh/do-not-disrupt (30s, 10m, 1h). Unset waits for the drain indefinitely.")
    @Pattern(Durations.DURATION_PATTERN)
    String terminationGracePeriod,
    @JsonPropertyDescription("Age at which a node is replaced (720h is 30 days), or Never.")
    @Default("720h") @Pattern(Durations.DURATION_OR_NEVER_PATTERN)
    String expireAfter) {

  public NodeClaimTemplateSpec {
    taints = taints == null ? null : List.copyOf(taints);
    startupTaints = startupTaints == null ? null : List.copyOf(startupTaints);
    requirements = requirements == null ? null : List.copyOf(requirements);
  }
}
