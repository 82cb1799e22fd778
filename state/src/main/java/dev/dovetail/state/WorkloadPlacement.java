package dev.dovetail.state;

import dev.dovetail.api.distribution.ReplicaCounts;
import java.util.Map;

/**
 * Where a workload's other replicas are: counts by capacity type for the distribution, and by node,
 * zone and instance pool (type and zone) for spreading or packing.
 */
public record WorkloadPlacement(ReplicaCounts counts, Map<String, Integer> perNode, Map<String, Integer> perZone,
    Map<String, Integer> perPool) {
  public static final WorkloadPlacement NONE = new WorkloadPlacement(ReplicaCounts.NONE, Map.of(), Map.of(), Map.of());

  public static String pool(NodeFacts node) {
    return node.instanceType() + "/" + node.zone();
  }
}
