package dev.dovetail.api.karpenter.v1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.schema.Elements;
import dev.dovetail.api.schema.Format;
import dev.dovetail.api.schema.ListType;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.List;
import java.util.Map;

/** Observed state of a NodeClaim. */
@JsonClassDescription("NodeClaimStatus is what the provisioner last observed of the claimed node.")
@JsonInclude(JsonInclude.Include.NON_NULL)
public record NodeClaimStatus(
    @JsonPropertyDescription("Name of the Node that registered for this claim.")
    String nodeName,
    @JsonPropertyDescription("Cloud provider id of the instance (on AWS aws:///<zone>/<instance-id>).")
    String providerID,
    @JsonPropertyDescription("Image the instance was launched from.")
    String imageID,
    @JsonPropertyDescription("Resources of the instance.")
    @Elements(pattern = Quantities.PATTERN)
    Map<String, Quantity> capacity,
    @JsonPropertyDescription("Resources of the instance available to pods, after system reservations.")
    @Elements(pattern = Quantities.PATTERN)
    Map<String, Quantity> allocatable,
    @JsonPropertyDescription("Last time a pod was bound to or removed from the node; consolidateAfter counts from here.")
    @Format("date-time")
    String lastPodEventTime,
    @JsonPropertyDescription("Launched, Registered, Initialized, Consolidatable, Drifted, Drained, ... and the roll-up Ready.")
    @ListType(value = ListType.Kind.MAP, mapKeys = "type")
    List<Condition> conditions) {

  public NodeClaimStatus {
    capacity = capacity == null ? null : Map.copyOf(capacity);
    allocatable = allocatable == null ? null : Map.copyOf(allocatable);
    conditions = conditions == null ? null : List.copyOf(conditions);
  }
}
