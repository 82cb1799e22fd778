package dev.dovetail.provisioner.disruption;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeClaimSpec;
import dev.dovetail.api.karpenter.v1.NodeClaimStatus;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.ClaimTemplate;
import dev.dovetail.api.scheduling.InstanceOptions;
import dev.dovetail.api.scheduling.Requirement;
import dev.dovetail.api.scheduling.Requirements;
import dev.dovetail.api.scheduling.Resources;
import dev.dovetail.api.scheduling.Scheduler;
import dev.dovetail.api.scheduling.SchedulingPod;
import dev.dovetail.api.scheduling.Solution;
import dev.dovetail.api.scheduling.Unschedulable;
import dev.dovetail.provisioner.provisioning.Provisioner;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Reverse fallback's decisions against a simulation that says whether spot can hold a node's pods: only
 * fallback nodes an interval old, checked once an interval, one replacement per pool at a time, and a
 * pool backing off from a minute, doubling to the interval, after failed attempts.
 */
class ReverseFallbackTest {
  private static final Instant NOW = Instant.parse("2026-12-06T12:00:00Z");
  private static final Duration INTERVAL = Duration.ofMinutes(10);
  private static final ClaimTemplate SPOT = new ClaimTemplate("general", 0,
      Requirements.of(Requirement.in(WellKnownLabels.NODEPOOL, "general"), Requirement.in(WellKnownLabels.CAPACITY_TYPE, "spot"),
          Requirement.in(WellKnownLabels.INSTANCE_TYPE, "m5.large", "m5.xlarge")),
      Map.of(WellKnownLabels.NODEPOOL, "general"), List.of(), Resources.NONE,
      InstanceOptions.from(Catalog.bundled(), Set.of("us-east-1a"), OptionalInt.empty(), (t, o) -> false), null);

  /** Whether spot holds the pods, and what the method reported. */
  private boolean spotBack;
  private Optional<Duration> interval = Optional.of(INTERVAL);
  private final List<String> reports = new ArrayList<>();
  private final List<Set<String>> simulated = new ArrayList<>();
  private final ReverseFallback method = new ReverseFallback(new Consolidator(new Consolidator.Inputs(() -> new Consolidator.Simulation() {
    @Override
    public Provisioner.Plan simulate(List<Pod> pods, Set<String> removed) {
      throw new AssertionError("reverse fallback simulates its pods back on spot only");
    }

    @Override
    public Provisioner.Plan simulateBackToSpot(List<Pod> pods, Set<String> removed) {
      simulated.add(removed);
      return plan(pods);
    }
  }, List::of, c -> Optional.of(0.1), pool -> Optional.empty(), ns -> List.of(), claim -> false, pool -> Optional.empty(), pod -> 2,
      (c, why) -> { }), () -> false), () -> interval, new ReverseFallback.Report() {
        @Override
        public void waiting(Candidate c, String why) {
          reports.add("waiting " + c.name() + ": " + why);
        }

        @Override
        public void ended(Candidate c, String nodePool, boolean succeeded, Duration backoff) {
          reports.add((succeeded ? "succeeded " : "failed ") + c.name() + " " + backoff);
        }
      });

  private Provisioner.Plan plan(List<Pod> pods) {
    Map<String, Pod> byUid = new HashMap<>();
    pods.forEach(p -> byUid.put(p.getMetadata().getUid(), p));
    Solution solution;
    if (spotBack) {
      solution = new Scheduler(List.of(), List.of(SPOT), List.of(), Provisioner.MAX_INSTANCE_TYPES)
          .solve(pods.stream().map(p -> SchedulingPod.of(p, Requirements.NONE)).toList());
    } else {
      Map<String, Unschedulable> nowhere = new HashMap<>();
      pods.forEach(p -> nowhere.put(p.getMetadata().getUid(), new Unschedulable.NoNodePool(false)));
      solution = new Solution(Map.of(), List.of(), nowhere);
    }
    return new Provisioner.Plan(solution, Map.of(), byUid, Set.of(), Map.of(), Map.of(), Map.of(), Map.of(), Duration.ZERO);
  }

  private static Candidate fallback(String name, String pool, Duration age) {
    NodeClaim claim = new NodeClaim();
    claim.setMetadata(new ObjectMetaBuilder().withName(name).withCreationTimestamp(NOW.minus(age).toString())
        .withLabels(Map.of(WellKnownLabels.NODEPOOL, pool, WellKnownLabels.INSTANCE_TYPE, "m5.large", WellKnownLabels.CAPACITY_TYPE, "on-demand",
            WellKnownLabels.ZONE, "us-east-1a", DovetailLabels.CAPACITY_FALLBACK, "true"))
        .build());
    claim.setSpec(new NodeClaimSpec(null, null, List.of(), null, null, null, "720h"));
    claim.setStatus(new NodeClaimStatus("node-" + name, "sim://" + name, null, null, null, null,
        List.of(new Condition(ConditionTypes.INITIALIZED, Condition.Status.True, 1L, NOW.toString(), "Initialized", ""))));
    Pod pod = new PodBuilder().withNewMetadata().withName("p-" + name).withNamespace("default").withUid("uid-" + name)
        .withCreationTimestamp("2026-12-06T10:00:00Z").endMetadata().withNewSpec().withNodeName("node-" + name).addNewContainer().withName("c")
        .withImage("i").withNewResources().addToRequests("cpu", new Quantity("500m")).addToRequests("memory", new Quantity("512Mi")).endResources()
        .endContainer().endSpec().withNewStatus().withPhase("Running").endStatus().build();
    return new Candidate(claim, Optional.of(new NodeBuilder().withNewMetadata().withName("node-" + name).endMetadata().build()), List.of(pod));
  }

  private static Candidate plain(Candidate c) {
    NodeClaim claim = new NodeClaim();
    Map<String, String> labels = new HashMap<>(c.claim().getMetadata().getLabels());
    labels.remove(DovetailLabels.CAPACITY_FALLBACK);
    claim.setMetadata(new ObjectMetaBuilder(c.claim().getMetadata()).withLabels(labels).build());
    claim.setSpec(c.claim().getSpec());
    claim.setStatus(c.claim().getStatus());
    return new Candidate(claim, c.node(), c.pods());
  }

  private List<Command> pass(List<Candidate> claims, Instant now) {
    method.beginPass(claims, now);
    List<Candidate> eligible = claims.stream().filter(c -> method.shouldDisrupt(c, now)).toList();
    return eligible.isEmpty() ? List.of() : method.computeCommands(Budgets.UNLIMITED, eligible, now);
  }

  @Test
  void onlyFallbackNodesAnIntervalOldAreLookedAtAndNoneWithoutAnInterval() {
    Candidate old = fallback("old", "general", INTERVAL.plusSeconds(1));
    Candidate young = fallback("young", "general", INTERVAL.minusSeconds(1));
    method.beginPass(List.of(old, young), NOW);
    assertThat(method.shouldDisrupt(old, NOW)).isTrue();
    assertThat(method.shouldDisrupt(young, NOW)).isFalse();
    assertThat(method.shouldDisrupt(plain(old), NOW)).as("on-demand that is not fallback stays").isFalse();
    assertThat(method.nextDue(List.of(old, young), NOW)).contains(NOW.plusSeconds(1));
    interval = Optional.empty();
    assertThat(method.shouldDisrupt(old, NOW)).as("off without a retry interval").isFalse();
  }

  @Test
  void spotThatCannotHoldThePodsYetMeansWaitingAnIntervalAndSayingSo() {
    Candidate c = fallback("a", "general", Duration.ofHours(1));
    assertThat(pass(List.of(c), NOW)).isEmpty();
    assertThat(reports).singleElement().asString().startsWith("waiting a: Spot capacity cannot hold").contains("checking again in PT10M");
    assertThat(simulated).containsExactly(Set.of("a", "node-a"));
    assertThat(pass(List.of(c), NOW.plus(INTERVAL).minusSeconds(1))).as("checked once an interval").isEmpty();
    assertThat(simulated).hasSize(1);
    spotBack = true;
    List<Command> commands = pass(List.of(c), NOW.plus(INTERVAL));
    assertThat(commands).singleElement().satisfies(command -> {
      assertThat(command.reason()).isEqualTo(Reason.REVERSE_FALLBACK);
      assertThat(command.decision()).isEqualTo(Command.Decision.REPLACE);
      assertThat(command.replacements().orElseThrow().solution().newClaims()).singleElement()
          .satisfies(claim -> assertThat(claim.requirements().get(WellKnownLabels.CAPACITY_TYPE).orElseThrow().values()).containsExactly("spot"));
    });
  }

  @Test
  void onePassStartsOneAndEachPoolHasOneUnderWayTillItEnds() {
    spotBack = true;
    List<Candidate> claims = List.of(fallback("a1", "a", Duration.ofHours(3)), fallback("a2", "a", Duration.ofHours(2)),
        fallback("b1", "b", Duration.ofHours(1)));
    List<Command> first = pass(claims, NOW);
    assertThat(first).as("the room a pass simulates is promised once").extracting(c -> c.candidates().get(0).name()).containsExactly("a1");
    method.started(first.get(0), NOW);
    List<Command> second = pass(claims, NOW.plusSeconds(5));
    assertThat(second).as("pool a waits for a1").extracting(c -> c.candidates().get(0).name()).containsExactly("b1");
    method.started(second.get(0), NOW.plusSeconds(5));
    assertThat(pass(claims, NOW.plusSeconds(10))).as("both pools busy").isEmpty();
    method.finished(first.get(0), true, NOW.plusSeconds(60));
    assertThat(reports).containsExactly("succeeded a1 PT0S");
    assertThat(pass(List.of(claims.get(1), claims.get(2)), NOW.plusSeconds(61))).extracting(c -> c.candidates().get(0).name())
        .containsExactly("a2");
  }

  @Test
  void aPoolWhoseAttemptsFailWaitsFromAMinuteDoublingToTheIntervalAndASuccessEndsIt() {
    spotBack = true;
    List<Candidate> nodes = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      nodes.add(fallback("n" + i, "general", Duration.ofHours(10 - i)));
    }
    Instant t = NOW;
    List<Duration> waits = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      List<Command> commands = pass(nodes, t);
      assertThat(commands).singleElement().satisfies(c -> assertThat(c.candidates()).isNotEmpty());
      method.started(commands.get(0), t);
      method.finished(commands.get(0), false, t);
      // The node that failed waits an interval; the pool's other nodes wait out its back-off.
      Instant next = method.nextDue(nodes, t).orElseThrow();
      assertThat(pass(nodes, next.minusMillis(1))).isEmpty();
      waits.add(Duration.between(t, next));
      t = next;
    }
    assertThat(waits).containsExactly(Duration.ofMinutes(1), Duration.ofMinutes(2), Duration.ofMinutes(4), Duration.ofMinutes(8), INTERVAL, INTERVAL);
    assertThat(reports).first().isEqualTo("failed n0 PT1M");
    List<Command> commands = pass(nodes, t);
    method.started(commands.get(0), t);
    method.finished(commands.get(0), true, t);
    nodes.remove(commands.get(0).candidates().get(0));  // gone to spot
    Command next = pass(nodes, t).get(0);
    method.started(next, t);
    method.finished(next, false, t);
    assertThat(reports).last().as("after a success the next failure waits a minute again").asString().matches("failed n[0-9] PT1M");
  }
}
