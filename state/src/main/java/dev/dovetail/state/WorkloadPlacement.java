package dev.dovetail.state;

import dev.dovetail.api.distribution.ReplicaCounts;
import java.util.Map;

/**
 * Where a workload's other replicas are: counts by capacity type for the distribution, and by node,
 * zone and instance pool (type and zone) for spreading or packing (empty when only counts were asked for).
 */
public record WorkloadPlacement(ReplicaCounts counts, Map<String, Integer> perNode, Map<String, Integer> perZone,
    Map<Pool, Integer> perPool) {
  public static final WorkloadPlacement NONE = new WorkloadPlacement(ReplicaCounts.NONE, Map.of(), Map.of(), Map.of());

  /** An instance pool: one instance type in one zone. */
  public record Pool(String instanceType, String zone) {
  }

  public static Pool pool(NodeFacts node) {
    return new Pool(node.instanceType(), node.zone());
  }
}
