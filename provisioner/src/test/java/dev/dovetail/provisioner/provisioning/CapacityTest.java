package dev.dovetail.provisioner.provisioning;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.Requirements;
import dev.dovetail.api.scheduling.Resources;
import dev.dovetail.api.scheduling.SimNode;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CapacityTest {
  private static Snapshot.Capacity.Entry entry(SimNode node, String... names) {
    return new Snapshot.Capacity.Entry(node, Set.of(names), Map.of());
  }

  private static SimNode node(String name, Map<String, String> labels) {
    return SimNode.node(name, labels, List.of(), Resources.of("cpu", "2", "memory", "4Gi", "pods", "110"), Resources.NONE, Set.of());
  }

  @Test
  void onlyNodesThatTakePodsNowCountAsInitialized() {
    Map<String, String> pool = Map.of(WellKnownLabels.NODEPOOL, "general");
    SimNode inFlight = new SimNode("claim-a", pool, Requirements.ofLabels(pool), List.of(), Resources.of("cpu", "2", "memory", "4Gi", "pods", "110"),
        Resources.NONE, Set.of(), true);
    Snapshot.Capacity capacity = new Snapshot.Capacity(List.of(
        entry(inFlight, "claim-a"),
        entry(node("node-b", pool), "node-b", "claim-b"),
        entry(node("node-c", Map.of(WellKnownLabels.NODEPOOL, "general", WellKnownLabels.INITIALIZED, "true")), "node-c", "claim-c"),
        entry(node("node-d", Map.of()), "node-d")), List.of());
    assertThat(capacity.initialized("claim-a")).as("a claim in flight").isFalse();
    assertThat(capacity.initialized("node-b")).as("a NodePool's node not Initialized yet").isFalse();
    assertThat(capacity.initialized("claim-b")).as("the same by its claim's name").isFalse();
    assertThat(capacity.initialized("node-c")).isTrue();
    assertThat(capacity.initialized("node-d")).as("a node no NodePool launched").isTrue();
    assertThat(capacity.initialized("unknown")).isTrue();
  }
}
