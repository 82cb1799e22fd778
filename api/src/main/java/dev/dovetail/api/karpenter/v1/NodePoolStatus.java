package dev.dovetail.api.karpenter.v1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.schema.Elements;
import dev.dovetail.api.schema.Format;
import dev.dovetail.api.schema.ListType;
import io.fabric8.generator.annotation.Default;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.List;
import java.util.Map;

/** Observed state of a NodePool. */
@JsonClassDescription("NodePoolStatus is what the provisioner last observed of the pool.")
@JsonInclude(JsonInclude.Include.NON_NULL)
public record NodePoolStatus(
    @JsonPropertyDescription("Resources of all nodes the pool has launched, summed.")
    @Elements(pattern = Quantities.PATTERN)
    Map<String, Quantity> resources,
    @JsonPropertyDescription("Number of nodes of the pool.")
    @Default("0") @Format("int64")
    Long nodes,
    @JsonPropertyDescription("The node class generation the status was computed from.")
    @Format("int64")
    Long nodeClassObservedGeneration,
    @JsonPropertyDescription("ValidationSucceeded, NodeClassReady, NodeRegistrationHealthy and the roll-up Ready.")
    @ListType(value = ListType.Kind.MAP, mapKeys = "type")
    List<Condition> conditions) {

  public NodePoolStatus {
    resources = resources == null ? null : Map.copyOf(resources);
    conditions = conditions == null ? null : List.copyOf(conditions);
  }
}
