package dev.dovetail.provisioner.cost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.assertj.core.api.Assertions.within;

import dev.dovetail.api.scheduling.Resources;
import dev.dovetail.provisioner.cost.CostAllocation.Allocation;
import dev.dovetail.provisioner.cost.CostAllocation.PodRequest;
import dev.dovetail.provisioner.cost.CostAllocation.PricedNode;
import dev.dovetail.provisioner.cost.CostAllocation.WorkloadCost;
import dev.dovetail.state.WorkloadKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CostAllocationTest {
  private static final WorkloadKey WEB = new WorkloadKey("shop", "Deployment", "web");
  private static final WorkloadKey CART = new WorkloadKey("shop", "Deployment", "cart");

  private static PricedNode node(String name, String capacityType, double price, double onDemand, String cpu, String memory) {
    return new PricedNode(name, "general", capacityType, price, onDemand, Resources.of("cpu", cpu, "memory", memory, "pods", "110"));
  }

  private static PodRequest pod(WorkloadKey workload, String node, String cpu, String memory) {
    return new PodRequest(workload, node, Resources.of("cpu", cpu, "memory", memory));
  }

  /**
   * By hand: 2 vCPU and 8 GiB weigh 2 × 0.031611 + 8 × 0.004237 = 0.097118, so the CPU part of $0.10/h is
   * 0.063222 / 0.097118 = 65.0981 %: $0.0325491 per vCPU-hour and $0.0043627 per GiB-hour. web (1 vCPU, 2 GiB) costs
   * 0.0325491 + 2 × 0.0043627 = $0.0412745/h; cart (500m, 4 GiB) 0.0162745 + 4 × 0.0043627 = $0.0337255/h; the pods
   * request 75 % of both, so a quarter, $0.025/h, is idle. On-demand ($0.20/h) everything doubles.
   */
  @Test
  void aNodesPriceIsSplitByRequestsAndWhatNobodyRequestedIsIdle() {
    Allocation a = CostAllocation.allocate(List.of(node("n1", "spot", 0.10, 0.20, "2", "8Gi")),
        List.of(pod(WEB, "n1", "1", "2Gi"), pod(CART, "n1", "500m", "4Gi")));

    assertThat(a.workloads()).extracting(WorkloadCost::workload).containsExactly(CART, WEB);
    WorkloadCost cart = a.workloads().get(0);
    WorkloadCost web = a.workloads().get(1);
    assertThat(web.cost()).isCloseTo(0.0412745, within(1e-7));
    assertThat(cart.cost()).isCloseTo(0.0337255, within(1e-7));
    assertThat(web.onDemandCost()).isCloseTo(0.0825491, within(1e-7));
    assertThat(web.savings()).isCloseTo(0.0412745, within(1e-7));
    assertThat(web.capacityType()).isEqualTo("spot");
    assertThat(a.nodes().get(0).idle()).isCloseTo(0.025, within(1e-9));
    assertThat(a.nodes().get(0).onDemandIdle()).isCloseTo(0.05, within(1e-9));
    assertThat(a.idle() + web.cost() + cart.cost()).isCloseTo(a.total(), within(1e-12));
  }

  @Test
  void aWorkloadOnSpotAndOnDemandHasOneRowForEachWithItsReplicas() {
    Allocation a = CostAllocation.allocate(
        List.of(node("spot-1", "spot", 0.04, 0.10, "2", "4Gi"), node("od-1", "on-demand", 0.10, 0.10, "2", "4Gi")),
        List.of(pod(WEB, "spot-1", "1", "2Gi"), pod(WEB, "spot-1", "1", "2Gi"), pod(WEB, "od-1", "1", "2Gi")));

    assertThat(a.workloads()).extracting(WorkloadCost::capacityType, WorkloadCost::replicas)
        .containsExactly(tuple("on-demand", 1), tuple("spot", 2));
    // Two pods fill the spot node: all of its $0.04 is theirs, and its $0.10 on-demand equivalent; half of the other.
    assertThat(a.workloads().get(1).cost()).isCloseTo(0.04, within(1e-12));
    assertThat(a.workloads().get(1).savings()).isCloseTo(0.06, within(1e-12));
    assertThat(a.workloads().get(0).cost()).isCloseTo(0.05, within(1e-12));
    assertThat(a.workloads().get(0).savings()).isCloseTo(0, within(1e-12));
    assertThat(a.idle()).isCloseTo(0.05, within(1e-12));
  }

  @Test
  void podsRequestingMoreThanTheNodeAllocatesShareItsWholePriceAndNothingIsIdle() {
    Allocation a = CostAllocation.allocate(List.of(node("n1", "on-demand", 0.10, 0.10, "1", "1Gi")),
        List.of(pod(WEB, "n1", "1", "1Gi"), pod(CART, "n1", "1", "1Gi")));

    assertThat(a.workloads()).allSatisfy(w -> assertThat(w.cost()).isCloseTo(0.05, within(1e-12)));
    assertThat(a.idle()).isZero();
  }

  @Test
  void podsOnNodesWithoutAPriceAreCountedApartAndCostNothing() {
    Allocation a = CostAllocation.allocate(List.of(node("n1", "spot", 0.10, 0.20, "2", "8Gi")),
        List.of(pod(WEB, "unknown", "1", "1Gi"), pod(WEB, "n1", "0", "0")));

    assertThat(a.unpriced()).isEqualTo(1);
    assertThat(a.workloads()).singleElement().satisfies(w -> {
      assertThat(w.replicas()).isEqualTo(1);
      assertThat(w.cost()).isZero();
    });
    assertThat(a.idle()).isEqualTo(0.10);
  }

  @Test
  void poolsAddUpTheirNodes() {
    Allocation a = CostAllocation.allocate(
        List.of(node("a", "spot", 0.04, 0.10, "2", "4Gi"), node("b", "spot", 0.06, 0.10, "2", "4Gi"),
            new PricedNode("c", "", "on-demand", 0.10, 0.10, Resources.of("cpu", "2", "memory", "4Gi"))),
        List.of(pod(WEB, "a", "2", "4Gi")));

    assertThat(a.pools()).extracting(CostAllocation.PoolCost::nodePool, CostAllocation.PoolCost::nodes)
        .containsExactly(tuple("", 1), tuple("general", 2));
    assertThat(a.pools().get(1).cost()).isCloseTo(0.10, within(1e-12));
    assertThat(a.pools().get(1).idle()).isCloseTo(0.06, within(1e-12));
    assertThat(a.pools().get(1).onDemandCost()).isCloseTo(0.20, within(1e-12));
  }

  /** Random clusters: the pods' costs plus idle are the nodes' price, no share or idle is negative, each node's pods cost at most its price. */
  @Test
  void workloadsPlusIdleAreTheNodesPriceOnRandomClusters() {
    Random random = new Random(17);
    for (int round = 0; round < 500; round++) {
      List<PricedNode> nodes = new ArrayList<>();
      int n = 1 + random.nextInt(6);
      for (int i = 0; i < n; i++) {
        double price = random.nextInt(1000) / 1000.0;
        nodes.add(node("n" + i, random.nextBoolean() ? "spot" : "on-demand", price, price * (1 + random.nextInt(3)),
            (1 + random.nextInt(16)) * 500 + "m", (1 + random.nextInt(64)) + "Gi"));
      }
      List<PodRequest> pods = new ArrayList<>();
      int p = random.nextInt(30);
      for (int i = 0; i < p; i++) {
        pods.add(pod(random.nextBoolean() ? WEB : CART, "n" + random.nextInt(n + 1), random.nextInt(4000) + "m", random.nextInt(16000) + "Mi"));
      }

      Allocation a = CostAllocation.allocate(nodes, pods);

      double sum = a.workloads().stream().mapToDouble(WorkloadCost::cost).sum();
      double onDemand = a.workloads().stream().mapToDouble(WorkloadCost::onDemandCost).sum();
      assertThat(sum + a.idle()).isCloseTo(nodes.stream().mapToDouble(PricedNode::pricePerHour).sum(), within(1e-9));
      assertThat(onDemand + a.nodes().stream().mapToDouble(CostAllocation.NodeCost::onDemandIdle).sum())
          .isCloseTo(nodes.stream().mapToDouble(PricedNode::onDemandPricePerHour).sum(), within(1e-9));
      assertThat(a.nodes()).allSatisfy(c -> {
        assertThat(c.idle()).isGreaterThanOrEqualTo(0);
        assertThat(c.allocated()).isLessThanOrEqualTo(c.node().pricePerHour() + 1e-12);
      });
      assertThat(a.workloads()).allSatisfy(w -> assertThat(w.cost()).isGreaterThanOrEqualTo(0));
      assertThat(a.workloads().stream().mapToInt(WorkloadCost::replicas).sum() + a.unpriced()).isEqualTo(p);
    }
  }
}
