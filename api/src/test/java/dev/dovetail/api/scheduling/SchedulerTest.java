package dev.dovetail.api.scheduling;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.TaintBuilder;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.IntStream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class SchedulerTest {

  private static Solution solve(List<ClaimTemplate> pools, List<SimNode> nodes, List<Pod> pods) {
    return new Scheduler(nodes, pools, List.of(), 60).solve(pods.stream().map(Sim::of).toList());
  }

  private static List<Pod> pods(String prefix, int n, String cpu, String memory) {
    return IntStream.range(0, n).mapToObj(i -> Sim.pod(prefix + "-" + i, cpu, memory).build()).toList();
  }

  /** Every claim's pods and daemon overhead fit the allocatable of every instance type it keeps. */
  private static void assertClaimsFit(Solution s, Map<String, Pod> byUid) {
    for (NewClaim c : s.newClaims()) {
      Resources total = c.template().daemonOverhead();
      for (String uid : c.podUids()) {
        total = total.plus(Resources.requestsOf(byUid.get(uid)));
      }
      assertThat(total).isEqualTo(c.requests());
      for (InstanceOption o : c.options()) {
        assertThat(total.fitsIn(o.allocatable())).as("%s fits %s", total, o.name()).isTrue();
        assertThat(o.offerable(c.requirements())).isTrue();
      }
    }
  }

  private static Map<String, Pod> index(List<Pod> pods) {
    Map<String, Pod> m = new HashMap<>();
    pods.forEach(p -> m.put(p.getMetadata().getUid(), p));
    return m;
  }

  @Test
  void identicalPodsPackOntoFewClaimsOfCheapFittingTypes() {
    List<Pod> pods = pods("web", 40, "500m", "1Gi");
    Solution s = solve(List.of(Sim.general()), List.of(), pods);
    assertThat(s.unschedulable()).isEmpty();
    assertThat(s.newClaims().stream().mapToInt(c -> c.podUids().size()).sum()).isEqualTo(40);
    assertClaimsFit(s, index(pods));
    // 40 x 0.5 CPU = 20 CPU plus overhead: a handful of nodes, not forty.
    assertThat(s.newClaims().size()).isLessThanOrEqualTo(3);
    assertThat(s.newClaims().get(0).options()).hasSizeLessThanOrEqualTo(60);
  }

  @Test
  void runningNodesAreFilledFirst() {
    SimNode node = SimNode.node("n1", Map.of(WellKnownLabels.ZONE, "us-east-1a", WellKnownLabels.ARCH, "amd64"), List.of(),
        Resources.of("cpu", "4", "memory", "16Gi", "pods", "110"), Resources.of("cpu", "1", "memory", "1Gi", "pods", "3"), Set.of());
    Solution s = solve(List.of(Sim.general()), List.of(node), pods("api", 8, "500m", "512Mi"));
    assertThat(s.onExistingNodes()).hasSize(6).containsValue("n1");
    assertThat(s.newClaims()).hasSize(1);
    assertThat(s.newClaims().get(0).podUids()).hasSize(2);
  }

  /**
   * The simulation is pure: it places pods on its own copies of the nodes it is given. Before it copied
   * them, a solve filled the caller's nodes, so a second simulation over the same nodes (the provisioner
   * reuses its snapshot) saw them full and launched new claims for what still fitted.
   */
  @Test
  void solvingLeavesTheGivenNodesAsTheyWereSoASecondSimulationAgrees() {
    SimNode node = SimNode.node("n1", Map.of(WellKnownLabels.ZONE, "us-east-1a", WellKnownLabels.ARCH, "amd64"), List.of(),
        Resources.of("cpu", "4", "memory", "16Gi", "pods", "110"), Resources.of("cpu", "1", "memory", "1Gi", "pods", "3"), Set.of());
    List<SimNode> nodes = List.of(node);
    Resources requestedBefore = node.requested();
    List<Pod> pods = new ArrayList<>(pods("api", 5, "500m", "512Mi"));
    pods.add(Sim.pod("agent-0", "100m", "64Mi").editSpec().editFirstContainer().addNewPort().withContainerPort(9100).withHostPort(9100)
        .endPort().endContainer().endSpec().build());

    Solution first = solve(List.of(Sim.general()), nodes, pods);
    assertThat(first.onExistingNodes()).containsEntry("uid-agent-0", "n1").hasSize(6);
    assertThat(first.newClaims()).isEmpty();

    assertThat(node.requested()).as("requests of the node given to the simulation").isEqualTo(requestedBefore);
    assertThat(node.portsFree(Set.of("TCP/9100"))).as("host ports of the node given to the simulation").isTrue();
    Solution second = solve(List.of(Sim.general()), nodes, pods);
    assertThat(second.onExistingNodes()).isEqualTo(first.onExistingNodes());
    assertThat(second.newClaims().stream().map(NewClaim::podUids).toList())
        .isEqualTo(first.newClaims().stream().map(NewClaim::podUids).toList());
    assertThat(second.unschedulable()).isEqualTo(first.unschedulable());
  }

  /** One scheduler asked twice answers the same: a solve leaves no claims, placements or counts behind. */
  @Test
  void oneSchedulerSolvesTheSamePodsTheSameWayTwice() {
    SimNode node = SimNode.node("n1", Map.of(WellKnownLabels.ZONE, "us-east-1a", WellKnownLabels.ARCH, "amd64"), List.of(),
        Resources.of("cpu", "4", "memory", "16Gi", "pods", "110"), Resources.of("cpu", "1", "memory", "1Gi", "pods", "3"), Set.of());
    ClaimTemplate limited = Sim.pool("limited", 10, Requirements.of(Requirement.in(WellKnownLabels.INSTANCE_CATEGORY, "m"),
        Requirement.in(WellKnownLabels.ARCH, "amd64")), List.of(), Resources.of("cpu", "16", "nodes", "2"));
    List<SchedulingPod> pods = pods("api", 12, "1", "1Gi").stream().map(Sim::of).toList();
    Scheduler scheduler = new Scheduler(List.of(node), List.of(limited), List.of(), 60);

    Solution first = scheduler.solve(pods);
    Solution second = scheduler.solve(pods);

    assertThat(first.onExistingNodes()).hasSize(3);
    assertThat(first.newClaims()).isNotEmpty();
    assertThat(second.onExistingNodes()).isEqualTo(first.onExistingNodes());
    assertThat(second.newClaims().stream().map(NewClaim::podUids).toList())
        .isEqualTo(first.newClaims().stream().map(NewClaim::podUids).toList());
    assertThat(second.unschedulable()).isEqualTo(first.unschedulable());
  }

  @Test
  void taintedPoolsTakeOnlyPodsThatTolerateThem() {
    Taint gpuTaint = new TaintBuilder().withKey("nvidia.com/gpu").withEffect("NoSchedule").build();
    ClaimTemplate gpu = Sim.pool("gpu", 50, Requirements.of(Requirement.in(WellKnownLabels.INSTANCE_GPU_MANUFACTURER, "nvidia")),
        List.of(gpuTaint), null);
    Toleration tolerate = new TolerationBuilder().withKey("nvidia.com/gpu").withOperator("Exists").withEffect("NoSchedule").build();
    Pod trainer = Sim.pod("trainer-0", "4", "16Gi").editSpec().addToTolerations(tolerate).editFirstContainer().editResources()
        .addToRequests("nvidia.com/gpu", new Quantity("1")).addToLimits("nvidia.com/gpu", new Quantity("1")).endResources()
        .endContainer().endSpec().build();
    Pod web = Sim.pod("web-0", "1", "1Gi").build();
    Solution s = solve(List.of(gpu, Sim.general()), List.of(), List.of(trainer, web));
    assertThat(s.unschedulable()).isEmpty();
    NewClaim gpuClaim = s.newClaims().stream().filter(c -> c.podUids().contains("uid-trainer-0")).findFirst().orElseThrow();
    assertThat(gpuClaim.template().nodePool()).isEqualTo("gpu");
    assertThat(gpuClaim.cheapest().capacity().get("nvidia.com/gpu")).isGreaterThanOrEqualTo(1);
    assertThat(s.newClaims().stream().filter(c -> c.podUids().contains("uid-web-0")).findFirst().orElseThrow().template().nodePool())
        .as("heavier pool first, but its taint keeps ordinary pods out").isEqualTo("general");
  }

  @Test
  void limitsBoundWhatAPoolLaunchesAndSayWhy() {
    ClaimTemplate small = Sim.pool("small", 10, Requirements.of(Requirement.in(WellKnownLabels.INSTANCE_CATEGORY, "m"),
        Requirement.in(WellKnownLabels.ARCH, "amd64")), List.of(), Resources.of("cpu", "16"));
    Solution s = solve(List.of(small), List.of(), pods("big", 10, "3", "4Gi"));
    int launchedCpu = s.newClaims().stream().mapToInt(c -> (int) c.options().stream().mapToLong(o -> o.capacity().cpuMillis()).max()
        .orElseThrow() / 1000).sum();
    assertThat(launchedCpu).isLessThanOrEqualTo(16);
    assertThat(s.unschedulable()).isNotEmpty();
    assertThat(s.unschedulable().values()).allSatisfy(r -> assertThat(r.message()).contains("within its limits"));
    assertThat(s.unschedulable().values()).allSatisfy(r -> assertThat(r.category()).isEqualTo(Unschedulable.Category.LIMITS));
  }

  @Test
  void zoneSpreadLandsPodsInEveryZone() {
    List<Pod> pods = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      pods.add(Sim.pod("spread-" + i, "1", "1Gi").editSpec().addNewTopologySpreadConstraint().withMaxSkew(1)
          .withTopologyKey(WellKnownLabels.ZONE).withWhenUnsatisfiable("DoNotSchedule")
          .withLabelSelector(new LabelSelectorBuilder().addToMatchLabels("app", "spread").build()).endTopologySpreadConstraint()
          .endSpec().build());
    }
    Solution s = solve(List.of(Sim.general()), List.of(), pods);
    assertThat(s.unschedulable()).isEmpty();
    Map<String, Integer> perZone = new TreeMap<>();
    for (NewClaim c : s.newClaims()) {
      String zone = c.requirements().get(WellKnownLabels.ZONE).orElseThrow().values().iterator().next();
      perZone.merge(zone, c.podUids().size(), Integer::sum);
    }
    assertThat(perZone).containsOnlyKeys("us-east-1a", "us-east-1b", "us-east-1c").allSatisfy((z, n) -> assertThat(n).isEqualTo(2));
  }

  /**
   * kube-scheduler measures skew over the domains of the nodes the pod's node selection matches, tainted or not,
   * unless the constraint says {@code nodeTaintsPolicy: Honor}. Zone a holds one anchor; zone b's only node is
   * tainted. Counting b (the default), another anchor in a would make the skew 2; not counting it (Honor), 1.
   */
  @Test
  void spreadCountsTaintedNodesDomainsUnlessTheConstraintHonoursTaints() {
    Map<String, String> zoneA = Map.of(WellKnownLabels.ZONE, "us-east-1a", WellKnownLabels.ARCH, "amd64", WellKnownLabels.HOSTNAME, "n-a");
    SimNode a = SimNode.node("n-a", zoneA, List.of(), Resources.of("cpu", "4", "memory", "16Gi", "pods", "110"), Resources.NONE, Set.of());
    SimNode b = SimNode.node("n-b", Map.of(WellKnownLabels.ZONE, "us-east-1b", WellKnownLabels.ARCH, "amd64", WellKnownLabels.HOSTNAME, "n-b"),
        List.of(new TaintBuilder().withKey("example.com/closed").withEffect("NoSchedule").build()),
        Resources.of("cpu", "4", "memory", "16Gi", "pods", "110"), Resources.NONE, Set.of());
    List<Scheduler.Placed> anchors = List.of(new Scheduler.Placed("default", Map.of("app", "anchor"), zoneA));
    for (String policy : new String[] {null, "Ignore", "Honor"}) {
      Pod pod = Sim.pod("anchor-1", "500m", "512Mi").editSpec().addNewTopologySpreadConstraint().withMaxSkew(1)
          .withTopologyKey(WellKnownLabels.ZONE).withWhenUnsatisfiable("DoNotSchedule").withNodeTaintsPolicy(policy)
          .withLabelSelector(new LabelSelectorBuilder().addToMatchLabels("app", "anchor").build()).endTopologySpreadConstraint()
          .endSpec().build();
      Solution s = new Scheduler(List.of(a, b), List.of(), anchors, 60).solve(List.of(Sim.of(pod)));
      if ("Honor".equals(policy)) {
        assertThat(s.onExistingNodes()).as("nodeTaintsPolicy Honor").containsEntry("uid-anchor-1", "n-a");
      } else {
        assertThat(s.onExistingNodes()).as("nodeTaintsPolicy %s", policy).isEmpty();
        assertThat(s.unschedulable()).as("nodeTaintsPolicy %s", policy).containsKey("uid-anchor-1");
      }
    }
  }

  @Test
  void hostnameAntiAffinityGivesEveryReplicaItsOwnNode() {
    List<Pod> pods = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      pods.add(Sim.pod("db-" + i, "500m", "1Gi").editSpec().withNewAffinity().withNewPodAntiAffinity()
          .addNewRequiredDuringSchedulingIgnoredDuringExecution().withTopologyKey(WellKnownLabels.HOSTNAME)
          .withLabelSelector(new LabelSelectorBuilder().addToMatchLabels("app", "db").build()).endRequiredDuringSchedulingIgnoredDuringExecution()
          .endPodAntiAffinity().endAffinity().endSpec().build());
    }
    Solution s = solve(List.of(Sim.general()), List.of(), pods);
    assertThat(s.newClaims()).hasSize(5).allSatisfy(c -> assertThat(c.podUids()).hasSize(1));
  }

  @Test
  void capacityTypeFromTheDistributionNarrowsTheClaim() {
    Pod pod = Sim.pod("od-0", "1", "1Gi").build();
    SchedulingPod onDemand = SchedulingPod.of(pod, Requirements.of(Requirement.in(WellKnownLabels.CAPACITY_TYPE, "on-demand")));
    Solution s = new Scheduler(List.of(), List.of(Sim.general()), List.of(), 60).solve(List.of(onDemand));
    NewClaim c = s.newClaims().get(0);
    assertThat(c.requirements().get(WellKnownLabels.CAPACITY_TYPE).orElseThrow().values()).containsExactly("on-demand");
    assertThat(c.cheapest().cheapestOffering(c.requirements()).orElseThrow().capacityType().label()).isEqualTo("on-demand");
  }

  @Test
  void unschedulablePodsSayWhichRequirementFailed() {
    Pod needsLabel = Sim.pod("x-0", "1", "1Gi").editSpec().addToNodeSelector("team", "payments").endSpec().build();
    Pod tooBig = Sim.pod("huge-0", "900", "1Gi").build();
    Pod arm = Sim.pod("arm-0", "1", "1Gi").editSpec().addToNodeSelector(WellKnownLabels.ARCH, "arm64").endSpec().build();
    Solution s = solve(List.of(Sim.general()), List.of(), List.of(needsLabel, tooBig, arm));
    assertThat(s.unschedulable().get("uid-x-0").message()).contains("label team is not defined by the NodePool");
    assertThat(s.unschedulable().get("uid-huge-0").message()).contains("no instance type has an available offering that fits requests");
    assertThat(s.unschedulable().get("uid-huge-0").category()).isEqualTo(Unschedulable.Category.RESOURCES);
    assertThat(s.unschedulable().get("uid-x-0").category()).isEqualTo(Unschedulable.Category.REQUIREMENTS);
    assertThat(s.unschedulable().get("uid-arm-0").message()).contains("kubernetes.io/arch");
  }

  @Property(tries = 60)
  void everyPlacementFitsAndLimitsHoldAndTheResultIsDeterministic(
      @ForAll @Size(min = 1, max = 60) List<@IntRange(min = 1, max = 24) Integer> cpuTenths,
      @ForAll @IntRange(min = 4, max = 200) int cpuLimit) {
    List<Pod> pods = new ArrayList<>();
    for (int i = 0; i < cpuTenths.size(); i++) {
      int tenths = cpuTenths.get(i);
      pods.add(Sim.pod("p" + tenths + "-" + i, (tenths * 100) + "m", (tenths * 256) + "Mi").build());
    }
    ClaimTemplate pool = Sim.pool("limited", 10, Requirements.of(Requirement.in(WellKnownLabels.INSTANCE_CATEGORY, "c", "m"),
        Requirement.in(WellKnownLabels.ARCH, "amd64")), List.of(), Resources.of("cpu", String.valueOf(cpuLimit)));
    Solution s = solve(List.of(pool), List.of(), pods);
    assertClaimsFit(s, index(pods));
    long reserved = s.newClaims().stream().mapToLong(c -> c.options().stream().mapToLong(o -> o.capacity().cpuMillis()).max().orElseThrow()).sum();
    assertThat(reserved).isLessThanOrEqualTo(cpuLimit * 1000L);
    Set<String> placed = new HashSet<>(s.onExistingNodes().keySet());
    s.newClaims().forEach(c -> placed.addAll(c.podUids()));
    assertThat(placed.size() + s.unschedulable().size()).isEqualTo(pods.size());
    Solution again = solve(List.of(pool), List.of(), pods);
    assertThat(again.newClaims().stream().map(NewClaim::podUids).toList()).isEqualTo(s.newClaims().stream().map(NewClaim::podUids).toList());
    assertThat(again.unschedulable()).isEqualTo(s.unschedulable());
  }
}
