package dev.dovetail.provisioner.provisioning;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.Requirements;
import dev.dovetail.api.scheduling.Resources;
import dev.dovetail.api.scheduling.Scheduler;
import dev.dovetail.api.scheduling.SimNode;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * One read of the capacity, simulated on many times with different nodes left out and pods placed anew; which of its
 * nodes take pods now.
 */
class CapacityTest {
  private static SimNode node(String name, String requestedCpu) {
    return SimNode.node(name, Map.of(WellKnownLabels.HOSTNAME, name), List.of(), Resources.of("cpu", "4", "memory", "16Gi", "pods", "110"),
        Resources.of("cpu", requestedCpu), Set.of());
  }

  private static Snapshot.Capacity.PlacedPod placed(String uid, String node) {
    return new Snapshot.Capacity.PlacedPod(uid, new Scheduler.Placed("ns", Map.of("app", uid), Map.of(WellKnownLabels.HOSTNAME, node)));
  }

  private final Snapshot.Capacity capacity = new Snapshot.Capacity(List.of(
      new Snapshot.Capacity.Entry(node("node-a", "1"), Set.of("node-a", "claim-a"), Map.of("p1", Resources.of("cpu", "1"))),
      // 500m of node-b's requests hold room for a pod nominated there, not bound yet.
      new Snapshot.Capacity.Entry(node("node-b", "1500m"), Set.of("node-b", "claim-b"),
          Map.of("p2", Resources.of("cpu", "1"), "nominated", Resources.of("cpu", "500m"))),
      new Snapshot.Capacity.Entry(node("claim-c", "0"), Set.of("claim-c"), Map.of())),
      List.of(placed("p1", "node-a"), placed("p2", "node-b"), placed("nominated", "node-b")));

  @Test
  void nothingLeftOutIsEverything() {
    Snapshot.Capacity.View view = capacity.without(Set.of(), Set.of());
    assertThat(view.nodes()).extracting(SimNode::name).containsExactly("node-a", "node-b", "claim-c");
    assertThat(view.placedPods().get()).hasSize(3);
  }

  @Test
  void aNodeGoesByItsOwnNameOrItsClaims() {
    assertThat(capacity.without(Set.of("claim-a"), Set.of()).nodes()).extracting(SimNode::name).containsExactly("node-b", "claim-c");
    assertThat(capacity.without(Set.of("node-b", "claim-c"), Set.of()).nodes()).extracting(SimNode::name).containsExactly("node-a");
  }

  @Test
  void aPodPlacedAnewHoldsNoRoomWhereItWasNominatedOrIsBoundAndDoesNotCountWhereItRuns() {
    Snapshot.Capacity.View view = capacity.without(Set.of(), Set.of("nominated", "p1"));
    assertThat(view.nodes().get(1).requested().cpuMillis()).isEqualTo(1000);
    // p1 was read as pending and has bound since: placed anew, it is not also counted on node-a.
    assertThat(view.nodes().get(0).requested().cpuMillis()).isZero();
    assertThat(view.placedPods().get()).extracting(p -> p.labels().get("app")).containsExactly("p2");
    // The capacity itself is unchanged for the next simulation.
    assertThat(capacity.without(Set.of(), Set.of()).nodes()).extracting(n -> n.requested().cpuMillis()).containsExactly(1000L, 1500L, 0L);
  }

  @Test
  void aPodOnANodeLeftOutGivesNothingBackElsewhere() {
    Snapshot.Capacity.View view = capacity.without(Set.of("node-a"), Set.of("p1", "p2"));
    assertThat(view.nodes()).extracting(SimNode::name).containsExactly("node-b", "claim-c");
    assertThat(view.nodes()).extracting(n -> n.requested().cpuMillis()).containsExactly(500L, 0L);
  }

  @Test
  void onlyNodesThatTakePodsNowCountAsInitialized() {
    Map<String, String> pool = Map.of(WellKnownLabels.NODEPOOL, "general");
    Resources room = Resources.of("cpu", "2", "memory", "4Gi", "pods", "110");
    SimNode inFlight = new SimNode("claim-a", pool, Requirements.ofLabels(pool), List.of(), room, Resources.NONE, Set.of(), true);
    Snapshot.Capacity initialized = new Snapshot.Capacity(List.of(
        new Snapshot.Capacity.Entry(inFlight, Set.of("claim-a"), Map.of()),
        new Snapshot.Capacity.Entry(SimNode.node("node-b", pool, List.of(), room, Resources.NONE, Set.of()), Set.of("node-b", "claim-b"), Map.of()),
        new Snapshot.Capacity.Entry(SimNode.node("node-c", Map.of(WellKnownLabels.NODEPOOL, "general", WellKnownLabels.INITIALIZED, "true"), List.of(),
            room, Resources.NONE, Set.of()), Set.of("node-c", "claim-c"), Map.of()),
        new Snapshot.Capacity.Entry(SimNode.node("node-d", Map.of(), List.of(), room, Resources.NONE, Set.of()), Set.of("node-d"), Map.of())),
        List.of());
    assertThat(initialized.initialized("claim-a")).as("a claim in flight").isFalse();
    assertThat(initialized.initialized("node-b")).as("a NodePool's node not Initialized yet").isFalse();
    assertThat(initialized.initialized("claim-b")).as("the same by its claim's name").isFalse();
    assertThat(initialized.initialized("node-c")).isTrue();
    assertThat(initialized.initialized("node-d")).as("a node no NodePool launched").isTrue();
    assertThat(initialized.initialized("unknown")).isTrue();
  }
}
