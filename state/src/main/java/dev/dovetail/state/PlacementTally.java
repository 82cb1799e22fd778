package dev.dovetail.state;

import dev.dovetail.api.distribution.ReplicaCounts;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/** Adds up where a workload's replicas are, one replica at a time; shared by every {@link ClusterView}. */
final class PlacementTally {
  private final Function<String, NodeFacts> nodes;
  private int spot;
  private int onDemand;
  private int fallback;
  private final Map<String, Integer> perNode = new HashMap<>();
  private final Map<String, Integer> perZone = new HashMap<>();
  private final Map<String, Integer> perPool = new HashMap<>();

  PlacementTally(Function<String, NodeFacts> nodes) {
    this.nodes = nodes;
  }

  /** A replica bound to a node (ignored when the node or its capacity type is unknown). */
  void bound(String nodeName) {
    NodeFacts node = nodes.apply(nodeName);
    if (node == null || node.capacityType().isEmpty()) {
      return;
    }
    if (node.fallback()) {
      fallback++;
    } else if (node.holdsSpotPlaces()) {
      spot++;
    } else {
      onDemand++;
    }
    perNode.merge(node.name(), 1, Integer::sum);
    perZone.merge(node.zone(), 1, Integer::sum);
    perPool.merge(WorkloadPlacement.pool(node), 1, Integer::sum);
  }

  /** A replica not bound yet: counted where the in-flight table expects it, if anywhere. */
  void unbound(Optional<InFlight.Expected> expected) {
    if (expected.isEmpty()) {
      return;
    }
    Optional<String> node = expected.get().node().filter(n -> nodes.apply(n) != null);
    if (node.isPresent()) {
      bound(node.get());
    } else if (expected.get().holdsSpot()) {
      spot++;
    } else {
      onDemand++;
    }
  }

  WorkloadPlacement result() {
    return new WorkloadPlacement(new ReplicaCounts(spot, onDemand, fallback), perNode, perZone, perPool);
  }
}
