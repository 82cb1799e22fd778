package dev.dovetail.provisioner.disruption;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeClaimSpec;
import dev.dovetail.api.karpenter.v1.NodeClaimStatus;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.ClaimTemplate;
import dev.dovetail.api.scheduling.InstanceOption;
import dev.dovetail.api.scheduling.InstanceOptions;
import dev.dovetail.api.scheduling.NewClaim;
import dev.dovetail.api.scheduling.Requirement;
import dev.dovetail.api.scheduling.Requirements;
import dev.dovetail.api.scheduling.Resources;
import dev.dovetail.api.scheduling.Scheduler;
import dev.dovetail.api.scheduling.SchedulingPod;
import dev.dovetail.api.scheduling.SimNode;
import dev.dovetail.api.scheduling.Solution;
import dev.dovetail.api.scheduling.Unschedulable;
import dev.dovetail.provisioner.provisioning.Provisioner;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The consolidation decision on plans from the real scheduling simulation over the bundled catalog:
 * delete when the pods fit elsewhere, replace with one node only on cheaper types (spot when it can be),
 * the spot-to-spot rules, and nothing when a pod fits nowhere or more than one node would be needed.
 */
class ConsolidatorTest {
  private static final Instant NOW = Instant.parse("2026-12-06T12:00:00Z");
  private static final Catalog CATALOG = Catalog.bundled();
  private static final List<InstanceOption> OPTIONS = InstanceOptions.from(CATALOG, Set.of("us-east-1a"), OptionalInt.empty(), (t, o) -> false);

  private static ClaimTemplate pool(String... capacityTypes) {
    Requirements requirements = Requirements.of(Requirement.in(WellKnownLabels.NODEPOOL, "general"),
        Requirement.in(WellKnownLabels.INSTANCE_CATEGORY, "c", "m", "r"), Requirement.in(WellKnownLabels.ARCH, "amd64"),
        Requirement.in(WellKnownLabels.CAPACITY_TYPE, capacityTypes), Requirement.of(WellKnownLabels.INSTANCE_GENERATION, "Gt", List.of("4")));
    return new ClaimTemplate("general", 0, requirements, Map.of(WellKnownLabels.NODEPOOL, "general"), List.of(), Resources.NONE, OPTIONS, null);
  }

  private static Candidate candidate(String name, String type, String capacityType, Pod... pods) {
    NodeClaim claim = new NodeClaim();
    claim.setMetadata(new ObjectMetaBuilder().withName(name).withCreationTimestamp(NOW.minus(Duration.ofHours(1)).toString())
        .withLabels(Map.of(WellKnownLabels.NODEPOOL, "general", WellKnownLabels.INSTANCE_TYPE, type, WellKnownLabels.CAPACITY_TYPE, capacityType,
            WellKnownLabels.ZONE, "us-east-1a"))
        .build());
    claim.setSpec(new NodeClaimSpec(null, null, List.of(), null, null, null, "720h"));
    claim.setStatus(new NodeClaimStatus("node-" + name, "sim://" + name, null, null, null, null,
        List.of(new Condition(ConditionTypes.CONSOLIDATABLE, Condition.Status.True, 1L, NOW.toString(), "Consolidatable", ""))));
    Node node = new NodeBuilder().withNewMetadata().withName("node-" + name).endMetadata().build();
    List<Pod> bound = new ArrayList<>();
    for (Pod p : pods) {
      bound.add(new PodBuilder(p).editSpec().withNodeName("node-" + name).endSpec().build());
    }
    return new Candidate(claim, Optional.of(node), bound);
  }

  private static double price(Candidate c) {
    return CATALOG.get(c.claim().getMetadata().getLabels().get(WellKnownLabels.INSTANCE_TYPE)).orElseThrow()
        .pricePerHour(CapacityType.fromLabel(c.capacityType()).orElseThrow(), "us-east-1a");
  }

  private static Pod pod(String name, String cpu, String memory) {
    return new PodBuilder().withNewMetadata().withName(name).withNamespace("default").withUid("uid-" + name).withLabels(Map.of("app", name))
        .withCreationTimestamp("2026-12-06T10:00:00Z").endMetadata()
        .withNewSpec().addNewContainer().withName("c").withImage("i").withNewResources()
        .addToRequests("cpu", new Quantity(cpu)).addToRequests("memory", new Quantity(memory)).endResources().endContainer().endSpec()
        .withNewStatus().withPhase("Running").endStatus().build();
  }

  /** Two pods that may not share a node. */
  private static Pod apart(String name, String cpu) {
    return new PodBuilder(pod(name, cpu, "256Mi")).editMetadata().withLabels(Map.of("app", "apart")).endMetadata().editSpec().withNewAffinity()
        .withNewPodAntiAffinity().addNewRequiredDuringSchedulingIgnoredDuringExecution().withTopologyKey(WellKnownLabels.HOSTNAME)
        .withNewLabelSelector().addToMatchLabels("app", "apart").endLabelSelector().endRequiredDuringSchedulingIgnoredDuringExecution()
        .endPodAntiAffinity().endAffinity().endSpec().build();
  }

  /** A node of another claim with this much room left. */
  private static SimNode room(String name, String cpu, String memory) {
    return SimNode.node(name, Map.of(WellKnownLabels.NODEPOOL, "general", WellKnownLabels.HOSTNAME, name), List.of(),
        Resources.of("cpu", cpu, "memory", memory, "pods", "110"), Resources.NONE, Set.of());
  }

  private static Provisioner.Plan plan(List<Pod> pods, List<SimNode> nodes, ClaimTemplate template) {
    Map<String, Pod> byUid = new HashMap<>();
    pods.forEach(p -> byUid.put(p.getMetadata().getUid(), p));
    Solution solution = new Scheduler(nodes, List.of(template), List.of(), Provisioner.MAX_INSTANCE_TYPES)
        .solve(pods.stream().map(p -> SchedulingPod.of(p, Requirements.NONE)).toList());
    return new Provisioner.Plan(solution, Map.of(), byUid, Set.of(), Map.of(), Map.of(), Map.of(), Map.of(), Duration.ZERO);
  }

  private static Set<String> uids(Candidate... candidates) {
    return List.of(candidates).stream().flatMap(c -> c.pods().stream()).map(p -> p.getMetadata().getUid()).collect(Collectors.toSet());
  }

  private static Consolidator.Move decide(List<Candidate> candidates, Provisioner.Plan plan, boolean spotToSpot, boolean single) {
    double price = candidates.stream().mapToDouble(ConsolidatorTest::price).sum();
    Map<String, Double> prices = candidates.stream().collect(Collectors.toMap(Candidate::name, ConsolidatorTest::price));
    return Consolidator.decide(candidates, price, prices, new Consolidator.Rehoming(plan, uids(candidates.toArray(Candidate[]::new)), node -> true),
        spotToSpot, single);
  }

  @Test
  void podsThatFitOnOtherNodesMeanTheCandidateIsDeleted() {
    Candidate c = candidate("a", "m5.xlarge", "on-demand", pod("p1", "500m", "512Mi"), pod("p2", "500m", "512Mi"));
    Consolidator.Move move = decide(List.of(c), plan(c.pods(), List.of(room("other", "1500m", "4Gi")), pool("on-demand")), false, true);
    assertThat(move).isInstanceOf(Consolidator.Move.Delete.class);
    assertThat(((Consolidator.Move.Delete) move).savings()).isEqualTo(price(c));
  }

  @Test
  void aPodWhoseRoomIsOnANodeNotInitializedYetKeepsTheCandidateAsKarpenterDoes() {
    Candidate c = candidate("a", "m5.xlarge", "on-demand", pod("p1", "500m", "512Mi"));
    Provisioner.Plan plan = plan(c.pods(), List.of(room("booting", "1500m", "4Gi")), pool("on-demand"));
    assertThat(plan.solution().onExistingNodes()).containsEntry("uid-p1", "booting");
    Consolidator.Rehoming booting = new Consolidator.Rehoming(plan, uids(c), name -> !name.equals("booting"));
    assertThat(booting.allPlaced()).isFalse();
    assertThat(booting.blocked()).hasValueSatisfying(why -> assertThat(why.message())
        .isEqualTo("not all pods would schedule, default/p1 => would schedule against uninitialized booting"));
    Consolidator.Rehoming up = new Consolidator.Rehoming(plan, uids(c), name -> true);
    assertThat(up.allPlaced()).isTrue();
    assertThat(up.blocked()).isEmpty();
  }

  @Test
  void aPodThatFitsNowhereKeepsTheCandidate() {
    Candidate c = candidate("a", "m5.xlarge", "on-demand", pod("huge", "900", "1Gi"));
    Consolidator.Move move = decide(List.of(c), plan(c.pods(), List.of(), pool("on-demand")), false, true);
    assertThat(move).isInstanceOfSatisfying(Consolidator.Move.None.class,
        n -> assertThat(n.why()).isInstanceOfSatisfying(Unconsolidatable.PodWouldNotSchedule.class, w -> assertThat(w.pod()).isEqualTo("default/huge")));
  }

  @Test
  void aLoneSmallPodOnABigOnDemandNodeGetsOneCheaperNodeSpotWhenThePoolAllowsIt() {
    Candidate c = candidate("a", "m5.2xlarge", "on-demand", pod("small", "500m", "1Gi"));
    Consolidator.Move move = decide(List.of(c), plan(c.pods(), List.of(), pool("spot", "on-demand")), false, true);
    assertThat(move).isInstanceOf(Consolidator.Move.Replace.class);
    Consolidator.Move.Replace replace = (Consolidator.Move.Replace) move;
    NewClaim claim = replace.plan().solution().newClaims().get(0);
    assertThat(replace.plan().solution().newClaims()).hasSize(1);
    assertThat(claim.requirements().get(WellKnownLabels.CAPACITY_TYPE).orElseThrow().allows(WellKnownLabels.ON_DEMAND))
        .as("a replacement that can be spot is spot").isFalse();
    assertThat(claim.options()).isNotEmpty().allSatisfy(o -> assertThat(o.cheapestPrice(claim.requirements())).isLessThan(price(c)));
    assertThat(replace.savings()).isEqualTo(price(c) - claim.options().get(0).cheapestPrice(claim.requirements()));
  }

  @Test
  void whenNoTypeIsCheaperThanTheCandidatesThereIsNoMove() {
    Candidate c = candidate("a", "m5.large", "on-demand", pod("p", "500m", "1Gi"));
    Consolidator.Move move = Consolidator.decide(List.of(c), 0.001, Map.of(),
        new Consolidator.Rehoming(plan(c.pods(), List.of(), pool("on-demand")), uids(c), node -> true), false, true);
    assertThat(move).isInstanceOfSatisfying(Consolidator.Move.None.class,
        n -> assertThat(n.why()).isEqualTo(new Unconsolidatable.NoCheaperReplacement(0.001)));
  }

  @Test
  void podsThatNeedTwoNewNodesAreNotMoved() {
    Candidate c = candidate("a", "m5.2xlarge", "on-demand", apart("x", "500m"), apart("y", "500m"));
    Consolidator.Move move = decide(List.of(c), plan(c.pods(), List.of(), pool("on-demand")), false, true);
    assertThat(move).isInstanceOfSatisfying(Consolidator.Move.None.class,
        n -> assertThat(n.why()).isEqualTo(new Unconsolidatable.MoreThanOneReplacement(2)));
  }

  @Test
  void aClaimOnlyPendingPodsNeedIsLeftToTheProvisioner() {
    Candidate c = candidate("a", "m5.2xlarge", "on-demand", apart("x", "500m"));
    Pod pending = apart("pending", "500m");
    Consolidator.Move move = decide(List.of(c), plan(List.of(c.pods().get(0), pending), List.of(), pool("on-demand")), false, true);
    assertThat(move).isInstanceOfSatisfying(Consolidator.Move.Replace.class, r -> {
      assertThat(r.plan().solution().newClaims()).hasSize(1);
      assertThat(r.plan().solution().newClaims().get(0).podUids()).containsExactly("uid-x");
    });
  }

  @Test
  void spotIsNotReplacedBySpotWithTheGateOff() {
    Candidate c = candidate("a", "m5.2xlarge", "spot", pod("small", "500m", "1Gi"));
    Consolidator.Move move = decide(List.of(c), plan(c.pods(), List.of(), pool("spot", "on-demand")), false, true);
    assertThat(move).isInstanceOfSatisfying(Consolidator.Move.None.class, n -> assertThat(n.why()).isInstanceOf(Unconsolidatable.SpotToSpotDisabled.class));
  }

  @Test
  void withTheGateOnASingleSpotNodeIsReplacedOnlyWithFifteenCheaperSpotTypesAndLaunchesFromTheFifteenCheapest() {
    Candidate big = candidate("a", "m5.4xlarge", "spot", pod("small", "500m", "1Gi"));
    Consolidator.Move move = decide(List.of(big), plan(big.pods(), List.of(), pool("spot")), true, true);
    assertThat(move).isInstanceOfSatisfying(Consolidator.Move.Replace.class,
        r -> assertThat(r.plan().solution().newClaims().get(0).options()).hasSize(Consolidator.SPOT_TO_SPOT_MIN_TYPES));

    Candidate cheap = candidate("b", "m5.large", "spot", pod("small", "500m", "1Gi"));
    Consolidator.Move few = decide(List.of(cheap), plan(cheap.pods(), List.of(), pool("spot")), true, true);
    assertThat(few).isInstanceOfSatisfying(Consolidator.Move.None.class, n -> assertThat(n.why())
        .isInstanceOfSatisfying(Unconsolidatable.TooFewCheaperSpotTypes.class, w -> assertThat(w.found()).isLessThan(w.needed())));
  }

  @Test
  void severalSpotNodesMayBecomeOneCheaperSpotNodeWithoutTheFloor() {
    Candidate a = candidate("a", "m5.large", "spot", pod("p1", "300m", "512Mi"));
    Candidate b = candidate("b", "m5.large", "spot", pod("p2", "300m", "512Mi"));
    List<Pod> pods = new ArrayList<>(a.pods());
    pods.addAll(b.pods());
    Consolidator.Move move = decide(List.of(a, b), plan(pods, List.of(), pool("spot")), true, false);
    assertThat(move).isInstanceOfSatisfying(Consolidator.Move.Replace.class,
        r -> assertThat(r.plan().solution().newClaims().get(0).options()).isNotEmpty()
            .allSatisfy(o -> assertThat(o.cheapestPrice(r.plan().solution().newClaims().get(0).requirements())).isLessThan(price(a) + price(b))));
  }

  @Test
  void severalNodesAreNotReplacedByOneOfATypeTheyAlreadyAreAtTheSamePrice() {
    ClaimTemplate xlargeOnly = new ClaimTemplate("general", 0, pool("on-demand").requirements().and(Requirement.in(WellKnownLabels.INSTANCE_TYPE,
        "m5.xlarge", "m5.2xlarge")), Map.of(WellKnownLabels.NODEPOOL, "general"), List.of(), Resources.NONE, OPTIONS, null);
    Candidate a = candidate("a", "m5.xlarge", "on-demand", pod("p1", "500m", "512Mi"));
    Candidate b = candidate("b", "m5.xlarge", "on-demand", pod("p2", "500m", "512Mi"));
    List<Pod> pods = new ArrayList<>(a.pods());
    pods.addAll(b.pods());
    // One m5.xlarge would do for both, but so would deleting one of them: that is single-node consolidation's move.
    assertThat(decide(List.of(a, b), plan(pods, List.of(), xlargeOnly), false, false)).isInstanceOfSatisfying(Consolidator.Move.None.class,
        n -> assertThat(n.why()).isInstanceOf(Unconsolidatable.NoCheaperReplacement.class));
  }

  @Test
  void theDisruptionCostCountsPodsByPriorityAndDeletionCostAndShrinksAsTheNodeNearsExpiry() {
    Pod plain = pod("plain", "100m", "64Mi");
    Pod important = new PodBuilder(pod("important", "100m", "64Mi")).editSpec().withPriority(1 << 25).endSpec().build();
    Pod cheap = new PodBuilder(pod("cheap", "100m", "64Mi")).editMetadata()
        .addToAnnotations("controller.kubernetes.io/pod-deletion-cost", String.valueOf(-(1 << 27))).endMetadata().build();
    Candidate c = candidate("a", "m5.large", "on-demand", plain, important, cheap);
    // one hour into a 720 h lifetime: 1 + 2 + 0, scaled by 719/720
    assertThat(Consolidator.disruptionCost(c, NOW)).isCloseTo(3.0 * 719 / 720, offset(1e-9));
    Candidate late = candidate("b", "m5.large", "on-demand", plain);
    late.claim().getMetadata().setCreationTimestamp(NOW.minus(Duration.ofHours(540)).toString());
    assertThat(Consolidator.disruptionCost(late, NOW)).isCloseTo(0.25, offset(1e-9));
  }

  @Test
  void aPassReadsTheClusterOnceForAllItsSimulationsAndTheNextPassReadsItAgain() {
    int[] reads = new int[1];
    List<Set<String>> simulated = new ArrayList<>();
    // Every simulation answers that the pods fit nowhere, so single-node consolidation tries each candidate.
    Consolidator.Inputs inputs = new Consolidator.Inputs(() -> {
      reads[0]++;
      return (pods, removed) -> {
        simulated.add(removed);
        Map<String, Unschedulable> nowhere = new HashMap<>();
        pods.forEach(p -> nowhere.put(p.getMetadata().getUid(), new Unschedulable.NoNodePool(false)));
        return new Provisioner.Plan(new Solution(Map.of(), List.of(), nowhere), Map.of(), Map.of(), Set.of(), Map.of(), Map.of(), Map.of(), Map.of(),
            Duration.ZERO);
      };
    }, List::of, c -> Optional.of(price(c)), pool -> Optional.empty(), ns -> List.of(), claim -> false, pool -> Optional.empty(), pod -> 2,
        (c, why) -> { });
    Consolidator consolidator = new Consolidator(inputs, () -> false);
    SingleNodeConsolidation single = new SingleNodeConsolidation(consolidator, Clock.fixed(NOW, ZoneOffset.UTC));
    List<Candidate> candidates = List.of(candidate("a", "m5.xlarge", "on-demand", pod("p1", "1", "1Gi")),
        candidate("b", "m5.xlarge", "on-demand", pod("p2", "1", "1Gi")), candidate("c", "m5.xlarge", "on-demand", pod("p3", "1", "1Gi")));

    single.beginPass(candidates, NOW);
    assertThat(single.computeCommands(Budgets.UNLIMITED, candidates, NOW)).isEmpty();
    assertThat(simulated).hasSize(3);
    assertThat(reads[0]).as("one read of the cluster for the pass's three simulations").isEqualTo(1);

    single.beginPass(candidates, NOW);
    single.computeCommands(Budgets.UNLIMITED, candidates, NOW);
    assertThat(reads[0]).as("a new pass reads the cluster again").isEqualTo(2);
  }

  @Test
  void consolidationLeavesANodeWhosePodsWouldOnlyFitOnANodeStillBootingAndSaysSo() {
    Candidate c = candidate("a", "m5.xlarge", "on-demand", pod("p1", "500m", "512Mi"));
    List<Unconsolidatable> reported = new ArrayList<>();
    boolean[] booting = {true};
    Consolidator.Inputs inputs = new Consolidator.Inputs(() -> new Consolidator.Simulation() {
      @Override
      public Provisioner.Plan simulate(List<Pod> pods, Set<String> removed) {
        return plan(pods, List.of(room("claim-new", "1500m", "4Gi")), pool("on-demand"));
      }

      @Override
      public boolean initialized(String node) {
        return !(booting[0] && node.equals("claim-new"));
      }
    }, List::of, cand -> Optional.of(price(cand)), pool -> Optional.empty(), ns -> List.of(), claim -> false, pool -> Optional.empty(),
        pod -> 2, (cand, why) -> reported.add(why));
    SingleNodeConsolidation single = new SingleNodeConsolidation(new Consolidator(inputs, () -> false), Clock.fixed(NOW, ZoneOffset.UTC));

    single.beginPass(List.of(c), NOW);
    assertThat(single.computeCommands(Budgets.UNLIMITED, List.of(c), NOW)).isEmpty();
    assertThat(reported).extracting(Unconsolidatable::message)
        .containsExactly("not all pods would schedule, default/p1 => would schedule against uninitialized claim-new");

    // Once that node is Initialized, the pod may move there: the candidate goes.
    booting[0] = false;
    single.beginPass(List.of(c), NOW);
    assertThat(single.computeCommands(Budgets.UNLIMITED, List.of(c), NOW)).singleElement()
        .satisfies(command -> assertThat(command.candidates()).extracting(Candidate::name).containsExactly("a"));
  }
}
