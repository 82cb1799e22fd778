package dev.dovetail.api.karpenter.v1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.dovetail.api.schema.ListType;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

/** Desired state of a NodeClaim; immutable once created. */
@JsonClassDescription("NodeClaimSpec describes the one node a NodeClaim asks for. It cannot change after creation.")
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "self == oldSelf", message = "spec is immutable")
public record NodeClaimSpec(
    @JsonPropertyDescription("Taints the node is created with.")
    @ListType(ListType.Kind.ATOMIC)
    List<Taint> taints,
    @JsonPropertyDescription("Taints present while the node starts up, expected to be removed by another agent.")
    @ListType(ListType.Kind.ATOMIC)
    List<Taint> startupTaints,
    @JsonPropertyDescription("Constraints the launched instance satisfies: the instance types, zones and capacity types it may be, and the pool's labels.")
    @Required @Size(max = 100) @ListType(ListType.Kind.ATOMIC)
    @ValidationRule(value = NodeSelectorRequirementWithMinValues.IN_NEEDS_VALUE_RULE, message = NodeSelectorRequirementWithMinValues.IN_NEEDS_VALUE_MESSAGE)
    @ValidationRule(value = NodeSelectorRequirementWithMinValues.BOUND_NEEDS_INTEGER_RULE, message = NodeSelectorRequirementWithMinValues.BOUND_NEEDS_INTEGER_MESSAGE)
    @ValidationRule(value = NodeSelectorRequirementWithMinValues.MIN_VALUES_RULE, message = NodeSelectorRequirementWithMinValues.MIN_VALUES_MESSAGE)
    List<NodeSelectorRequirementWithMinValues> requirements,
    @JsonPropertyDescription("Resources the node must offer.")
    ResourceRequirements resources,
    @JsonPropertyDescription("The node class with the launch settings.")
    @Required
    NodeClassReference nodeClassRef,
    @JsonPropertyDescription("Longest the node may drain before it is forcibly removed (30s, 10m, 1h); unset waits indefinitely.")
    @Pattern(Durations.DURATION_PATTERN)
    String terminationGracePeriod,
    @JsonPropertyDescription("Age at which the node is replaced, or Never.")
    @Default("720h") @Pattern(Durations.DURATION_OR_NEVER_PATTERN)
    String expireAfter) {

  public NodeClaimSpec {
    taints = taints == null ? null : List.copyOf(taints);
    startupTaints = startupTaints == null ? null : List.copyOf(startupTaints);
    requirements = requirements == null ? null : List.copyOf(requirements);
  }
}
