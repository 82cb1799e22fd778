package dev.dovetail.state;

import dev.dovetail.api.distribution.ReplicaCounts;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/** Adds up where a workload's replicas are, a node at a time; shared by every {@link ClusterView}. */
final class PlacementTally {
  private final Function<String, NodeFacts> nodes;
  private final boolean spread;
  private int spot;
  private int onDemand;
  private int fallback;
  private final Map<String, Integer> perNode = new HashMap<>();
  private final Map<String, Integer> perZone = new HashMap<>();
  private final Map<WorkloadPlacement.Pool, Integer> perPool = new HashMap<>();

  /** {@code spread}: also count per node, zone and pool (prioritize needs them, filter does not). */
  PlacementTally(Function<String, NodeFacts> nodes, boolean spread) {
    this.nodes = nodes;
    this.spread = spread;
  }

  /** {@code count} replicas on a node, negative to take some away (ignored when the node or its capacity type is unknown). */
  void on(String nodeName, int count) {
    NodeFacts node = nodes.apply(nodeName);
    if (node == null || node.capacityType().isEmpty() || count == 0) {
      return;
    }
    if (node.fallback()) {
      fallback += count;
    } else if (node.holdsSpotPlaces()) {
      spot += count;
    } else {
      onDemand += count;
    }
    if (spread) {
      perNode.merge(node.name(), count, PlacementTally::sumOrDrop);
      perZone.merge(node.zone(), count, PlacementTally::sumOrDrop);
      perPool.merge(WorkloadPlacement.pool(node), count, PlacementTally::sumOrDrop);
    }
  }

  /** Replicas in flight: those with a predicted node count there, the others by the class decided for them. */
  void inFlight(InFlight.Pending pending) {
    int located = 0;
    int locatedSpot = 0;
    for (Map.Entry<String, Integer> e : pending.perNode().entrySet()) {
      NodeFacts node = nodes.apply(e.getKey());
      if (node != null) {
        on(e.getKey(), e.getValue());
        located += e.getValue();
        locatedSpot += node.holdsSpotPlaces() ? e.getValue() : 0;
      }
    }
    spot += Math.max(0, pending.spot() - locatedSpot);
    onDemand += Math.max(0, pending.onDemand() - (located - locatedSpot));
  }

  private static Integer sumOrDrop(Integer a, Integer b) {
    int sum = a + b;
    return sum == 0 ? null : sum;
  }

  WorkloadPlacement result() {
    return new WorkloadPlacement(new ReplicaCounts(spot, onDemand, fallback), perNode, perZone, perPool);
  }
}
