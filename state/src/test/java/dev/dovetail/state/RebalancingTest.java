package dev.dovetail.state;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.distribution.DistributionRule;
import dev.dovetail.api.distribution.ReplicaCounts;
import dev.dovetail.api.distribution.RuleSet;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec.Selector;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec.Strategy;
import dev.dovetail.api.scheduling.Resources;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Robust distribution's choice of replicas to move: one per settled workload, off the side its rule
 * wants fewer on (fallback before spot, the newest first), none while the workload is still moving.
 */
class RebalancingTest {
  private static final WorkloadKey WEB = new WorkloadKey("shop", "Deployment", "web");

  private static NodeFacts node(String name, CapacityType type, boolean fallback) {
    return new NodeFacts(name, Optional.ofNullable(type), fallback, "us-east-1a", "m5.large", "general", 0.1, 0, Resources.NONE, true);
  }

  private static MemoryClusterView view(int spotPercent, int replicas) {
    return new MemoryClusterView().node(node("spot", CapacityType.SPOT, false)).node(node("od", CapacityType.ON_DEMAND, false))
        .node(node("fallback", CapacityType.ON_DEMAND, true)).node(node("unknown", null, false))
        .workload("ReplicaSet", "web-rs", new Workload(WEB, replicas))
        .rules(RuleSet.of(List.of(new RuleSet.Entry("cluster", Instant.parse("2026-11-01T00:00:00Z"), Optional.empty(),
            new DistributionRule(spotPercent, 100 - spotPercent, 0, Selector.All, Strategy.CostOptimized)))));
  }

  /** A Running, Ready replica of web created at minute {@code minute}, on {@code node}. */
  private static Pod replica(String name, String node, int minute) {
    return new PodBuilder().withNewMetadata().withNamespace("shop").withName(name).withUid(name)
        .withCreationTimestamp(String.format("2026-12-06T10:%02d:00Z", minute)).addNewOwnerReference().withKind("ReplicaSet")
        .withName("web-rs").withUid("web-rs").withController(true).endOwnerReference().endMetadata()
        .withNewSpec().withNodeName(node).endSpec().withNewStatus().withPhase("Running").addNewCondition().withType("Ready")
        .withStatus("True").endCondition().endStatus().build();
  }

  private static List<Pod> replicas(String node, int count, int firstMinute) {
    List<Pod> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(replica(node + "-" + i, node, firstMinute + i));
    }
    return out;
  }

  private static List<Pod> concat(List<Pod> a, List<Pod> b) {
    List<Pod> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  @Test
  void aRuleTurnedFromSeventyToThirtyPercentSpotMovesTheNewestSpotReplicaToOnDemand() {
    List<Pod> pods = concat(replicas("spot", 7, 0), replicas("od", 3, 10));
    List<Rebalancing.Move> moves = Rebalancing.moves(view(30, 10), pods, Set.of());
    assertThat(moves).singleElement().satisfies(m -> {
      assertThat(m.pod().getMetadata().getName()).isEqualTo("spot-6");
      assertThat(m.to()).isEqualTo(CapacityType.ON_DEMAND);
      assertThat(m.running()).isEqualTo(new ReplicaCounts(7, 3, 0));
      assertThat(m.message()).isEqualTo("Deployment shop/web runs 7 spot / 3 on-demand, rule cluster wants 3 spot / 7 on-demand of 10: "
          + "moving replica spot-6 off node spot to on-demand");
    });
  }

  @Test
  void aReplicaThatMayNotMoveIsPassedOverForTheNextNewest() {
    List<Pod> pods = concat(replicas("spot", 7, 0), replicas("od", 3, 10));
    assertThat(Rebalancing.moves(view(30, 10), pods, Set.of(), p -> !p.getMetadata().getName().equals("spot-6"))).singleElement()
        .satisfies(m -> assertThat(m.pod().getMetadata().getName()).isEqualTo("spot-5"));
  }

  @Test
  void tooManyOnOnDemandMovesOneToSpotAndASplitOnTargetMovesNothing() {
    List<Pod> pods = concat(replicas("spot", 3, 0), replicas("od", 7, 10));
    assertThat(Rebalancing.moves(view(70, 10), pods, Set.of())).singleElement()
        .satisfies(m -> assertThat(m.to()).isEqualTo(CapacityType.SPOT)).satisfies(m -> assertThat(m.node()).isEqualTo("od"));
    assertThat(Rebalancing.moves(view(30, 10), pods, Set.of())).isEmpty();
  }

  @Test
  void fallbackReplicasHoldSpotPlacesAndLeaveThemFirst() {
    List<Pod> pods = concat(concat(replicas("spot", 3, 30), replicas("fallback", 2, 0)), replicas("od", 5, 10));
    assertThat(Rebalancing.moves(view(50, 10), pods, Set.of())).as("5 spot places for 5 spot replicas").isEmpty();
    assertThat(Rebalancing.moves(view(30, 10), pods, Set.of())).singleElement()
        .satisfies(m -> assertThat(m.node()).isEqualTo("fallback")).satisfies(m -> assertThat(m.to()).isEqualTo(CapacityType.ON_DEMAND));
  }

  @Test
  void aWorkloadStillMovingIsLeftAlone() {
    List<Pod> settled = concat(replicas("spot", 7, 0), replicas("od", 3, 10));
    assertThat(Rebalancing.moves(view(30, 11), settled, Set.of())).as("one replica short of the desired 11").isEmpty();
    List<Pod> notReady = new ArrayList<>(settled);
    notReady.set(0, new PodBuilder(settled.get(0)).editStatus().editFirstCondition().withStatus("False").endCondition().endStatus().build());
    assertThat(Rebalancing.moves(view(30, 10), notReady, Set.of())).as("a replica not Ready").isEmpty();
    List<Pod> deleting = new ArrayList<>(settled);
    deleting.set(0, new PodBuilder(settled.get(0)).editMetadata().withDeletionTimestamp("2026-12-06T11:00:00Z").endMetadata().build());
    deleting.add(replica("new", null, 30));
    assertThat(Rebalancing.moves(view(30, 10), deleting, Set.of())).as("a replica going, its successor pending").isEmpty();
    List<Pod> unknown = concat(replicas("spot", 6, 0), concat(replicas("od", 3, 10), replicas("unknown", 1, 20)));
    assertThat(Rebalancing.moves(view(30, 10), unknown, Set.of())).as("a replica on a node of unknown capacity type").isEmpty();
    assertThat(Rebalancing.moves(view(30, 10).synced(false), settled, Set.of())).as("caches not synced").isEmpty();
    assertThat(Rebalancing.moves(view(30, 10), settled, Set.of("shop"))).as("an exempt namespace").isEmpty();
  }

  /** A replica of the StatefulSet db with this ordinal, on {@code node}. */
  private static Pod ordinal(int ordinal, String node) {
    return new PodBuilder().withNewMetadata().withNamespace("shop").withName("db-" + ordinal).withUid("db-" + ordinal)
        .withCreationTimestamp(String.format("2026-12-06T10:%02d:00Z", ordinal)).addNewOwnerReference().withKind("StatefulSet")
        .withName("db").withUid("db").withController(true).endOwnerReference().endMetadata()
        .withNewSpec().withNodeName(node).endSpec().withNewStatus().withPhase("Running").addNewCondition().withType("Ready")
        .withStatus("True").endCondition().endStatus().build();
  }

  @Test
  void aStatefulSetMovesTheReplicaWhoseOrdinalWantsTheOtherType() {
    MemoryClusterView view = view(30, 10).workload("StatefulSet", "db", new Workload(new WorkloadKey("shop", "StatefulSet", "db"), 10));
    // Ordinals 0-2 on on-demand, 3-9 on spot (the 70 % rule); at 30 % spot, ordinals 0-6 belong on on-demand.
    List<Pod> pods = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      pods.add(ordinal(i, i < 3 ? "od" : "spot"));
    }
    assertThat(Rebalancing.moves(view, pods, Set.of())).singleElement().satisfies(m -> {
      assertThat(m.pod().getMetadata().getName()).as("the newest spot replica whose ordinal wants on-demand").isEqualTo("db-6");
      assertThat(m.to()).isEqualTo(CapacityType.ON_DEMAND);
    });
  }
}
