package dev.dovetail.api.scheduling;

import java.util.List;
import java.util.Map;

/**
 * What the simulation decided: pods that fit running or in-flight nodes (by node name), new claims to
 * launch, and pods that fit nowhere, each with the reason.
 */
public record Solution(Map<String, String> onExistingNodes, List<NewClaim> newClaims, Map<String, Unschedulable> unschedulable) {
  public Solution {
    onExistingNodes = Map.copyOf(onExistingNodes);
    newClaims = List.copyOf(newClaims);
    unschedulable = Map.copyOf(unschedulable);
  }
}
