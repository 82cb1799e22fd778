package dev.dovetail.extender.decision;

import static dev.dovetail.extender.Fixtures.node;
import static dev.dovetail.extender.Fixtures.rule;
import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.distribution.RuleSet;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec.Selector;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec.Strategy;
import dev.dovetail.api.scheduling.Resources;
import dev.dovetail.extender.Requests;
import dev.dovetail.extender.protocol.CandidateNode;
import dev.dovetail.extender.protocol.ExtenderArgs;
import dev.dovetail.extender.protocol.ExtenderArgsParser;
import dev.dovetail.extender.protocol.HostPriority;
import dev.dovetail.state.MemoryClusterView;
import dev.dovetail.state.Workload;
import dev.dovetail.state.WorkloadKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DecisionsTest {
  private static final WorkloadKey WEB = new WorkloadKey("shop", "Deployment", "web");
  private static final String[] NODES = {"spot-a", "spot-b", "spot-c", "od-a", "od-b", "od-c"};

  private MemoryClusterView view;
  private InFlightTable inFlight;
  private Decisions decisions;
  private final AtomicLong clock = new AtomicLong();

  @BeforeEach
  void setUp() {
    view = new MemoryClusterView()
        .node(node("spot-a", CapacityType.SPOT, "us-east-1a", "m5.xlarge"))
        .node(node("spot-b", CapacityType.SPOT, "us-east-1b", "m5.xlarge"))
        .node(node("spot-c", CapacityType.SPOT, "us-east-1c", "c5.xlarge"))
        .node(node("od-a", CapacityType.ON_DEMAND, "us-east-1a", "m5.xlarge"))
        .node(node("od-b", CapacityType.ON_DEMAND, "us-east-1b", "m5.xlarge"))
        .node(node("od-c", CapacityType.ON_DEMAND, "us-east-1c", "m5.xlarge"))
        .rules(RuleSet.of(List.of(rule("cluster", null, 70, 0, Selector.SpotReady, Strategy.CostOptimized))))
        .workload("ReplicaSet", "web-1", new Workload(WEB, 20));
    inFlight = new InFlightTable(Duration.ofSeconds(60), clock::get);
    decisions = new Decisions(view, inFlight, Set.of("kube-system"), Catalog.bundled());
  }

  private static ExtenderArgs request(String namespace, String uid, String... nodes) {
    return ExtenderArgsParser.parse(Requests.nodeCache(namespace, "web-1-" + uid, uid, "web-1", nodes));
  }

  private static List<String> names(List<CandidateNode> nodes) {
    return nodes.stream().map(CandidateNode::name).toList();
  }

  @Test
  void aBurstOfReplicasFollowsTheSplitBeforeAnyIsBound() {
    for (int i = 0; i < 20; i++) {
      view.pod("uid-" + i, WEB, Optional.empty(), Resources.NONE);
    }
    Map<String, Integer> byClass = new HashMap<>();
    for (int i = 0; i < 20; i++) {
      Decisions.FilterVerdict verdict = decisions.filter(request("shop", "uid-" + i, NODES));
      assertThat(verdict.outcome()).isEqualTo(Outcome.GOVERNED);
      List<String> passed = names(verdict.result().passed());
      boolean spot = passed.get(0).startsWith("spot");
      assertThat(passed).as("one capacity class per replica").allMatch(n -> n.startsWith(spot ? "spot" : "od"));
      assertThat(verdict.result().failedAndUnresolvable()).as("reasons only matter when nothing passes").isEmpty();
      byClass.merge(spot ? "spot" : "on-demand", 1, Integer::sum);
    }
    assertThat(byClass).containsEntry("spot", 14).containsEntry("on-demand", 6);
  }

  @Test
  void boundReplicasCountByTheirNodesCapacityType() {
    for (int i = 0; i < 14; i++) {
      view.pod("s" + i, WEB, Optional.of("spot-" + "abc".charAt(i % 3)), Resources.NONE);
    }
    for (int i = 0; i < 5; i++) {
      view.pod("o" + i, WEB, Optional.of("od-a"), Resources.NONE);
    }
    Decisions.FilterVerdict last = decisions.filter(request("shop", "new", NODES));
    assertThat(names(last.result().passed())).containsExactlyInAnyOrder("od-a", "od-b", "od-c");
  }

  @Test
  void whenThePreferredClassHasNoNodeAnotherAllowedClassIsUsed() {
    // 20 replicas, none placed: spot is preferred, but only on-demand nodes are offered; on-demand is still short of target.
    Decisions.FilterVerdict verdict = decisions.filter(request("shop", "x", "od-a", "od-b"));
    assertThat(names(verdict.result().passed())).containsExactly("od-a", "od-b");
    assertThat(inFlight.holdsSpot("x")).contains(false);
  }

  @Test
  void noFittingNodeLeavesThePodPendingWithAReason() {
    // All 6 on-demand places are taken: the next replica needs spot, and only on-demand nodes are offered.
    for (int i = 0; i < 6; i++) {
      view.pod("o" + i, WEB, Optional.of("od-b"), Resources.NONE);
    }
    Decisions.FilterVerdict verdict = decisions.filter(request("shop", "x", "od-a", "od-c"));
    assertThat(verdict.outcome()).isEqualTo(Outcome.NO_FITTING_NODE);
    assertThat(verdict.result().passed()).isEmpty();
    assertThat(verdict.result().failedAndUnresolvable()).containsOnlyKeys("od-a", "od-c");
    assertThat(verdict.result().failedAndUnresolvable().get("od-a"))
        .startsWith("dovetail: Deployment shop/web needs spot capacity for this replica, node is on-demand")
        .contains("target 14 spot / 6 on-demand of 20").contains("rule cluster");
    assertThat(inFlight.holdsSpot("x")).isEmpty();
  }

  @Test
  void fallbackNodesTakeSpotPlaces() {
    view.node(node("fallback-a", CapacityType.ON_DEMAND, "us-east-1a", "m5.xlarge", true));
    for (int i = 0; i < 6; i++) {
      view.pod("o" + i, WEB, Optional.of("od-b"), Resources.NONE);
    }
    Decisions.FilterVerdict verdict = decisions.filter(request("shop", "x", "od-a", "fallback-a"));
    assertThat(names(verdict.result().passed())).containsExactly("fallback-a");
  }

  @Test
  void aSpotReplicaTakesRealSpotOverAFallbackStandIn() {
    view.node(node("fallback-a", CapacityType.ON_DEMAND, "us-east-1a", "m5.xlarge", true));
    for (int i = 0; i < 6; i++) {
      view.pod("o" + i, WEB, Optional.of("od-b"), Resources.NONE);
    }
    Decisions.FilterVerdict verdict = decisions.filter(request("shop", "x", "od-a", "fallback-a", "spot-a"));
    assertThat(names(verdict.result().passed())).containsExactly("spot-a");
  }

  @Test
  void unknownNodesPassWithoutOpinion() {
    Decisions.FilterVerdict verdict = decisions.filter(request("shop", "x", "unknown-node", "spot-a", "od-a"));
    assertThat(names(verdict.result().passed())).contains("unknown-node");
  }

  @Test
  void podsOutsideAnyRuleOrExemptOrBeforeSyncPassEverywhere() {
    decisions = new Decisions(view.rules(RuleSet.of(List.of(rule("payments-only", "payments", 100, 0, Selector.All, Strategy.CostOptimized)))),
        inFlight, Set.of("kube-system"), Catalog.bundled());
    assertThat(decisions.filter(request("shop", "x", NODES)).outcome()).isEqualTo(Outcome.NO_RULE);
    assertThat(names(decisions.filter(request("shop", "x", NODES)).result().passed())).containsExactly(NODES);
    assertThat(decisions.filter(request("kube-system", "y", NODES)).outcome()).isEqualTo(Outcome.EXEMPT);
    assertThat(decisions.filter(request("payments", "z", NODES)).result().passed()).extracting(CandidateNode::name)
        .containsExactly("spot-a", "spot-b", "spot-c");
    view.synced(false);
    assertThat(decisions.filter(request("payments", "z", NODES)).outcome()).isEqualTo(Outcome.NOT_SYNCED);
  }

  @Test
  void aNamespaceRuleOverridesTheClusterRule() {
    view.rules(RuleSet.of(List.of(rule("cluster", null, 70, 0, Selector.SpotReady, Strategy.CostOptimized),
        rule("shop", "shop", 0, 0, Selector.All, Strategy.CostOptimized))));
    assertThat(names(decisions.filter(request("shop", "x", NODES)).result().passed())).containsExactly("od-a", "od-b", "od-c");
  }

  @Test
  void costOptimizedPacksWhereLeastInterruptedSpreads() {
    Set<String> packed = placeBurst(Strategy.CostOptimized, 6);
    setUp();
    Set<String> spread = placeBurst(Strategy.LeastInterrupted, 6);
    assertThat(packed).hasSize(1);
    assertThat(spread).hasSizeGreaterThanOrEqualTo(3);
  }

  /** Places n all-spot replicas one after another, following the extender's top-ranked node each time. */
  private Set<String> placeBurst(Strategy strategy, int n) {
    view.rules(RuleSet.of(List.of(rule("cluster", null, 100, 0, Selector.All, strategy))));
    Set<String> used = new HashSet<>();
    for (int i = 0; i < n; i++) {
      view.pod("b" + i, WEB, Optional.empty(), Resources.NONE);
    }
    for (int i = 0; i < n; i++) {
      ExtenderArgs args = request("shop", "b" + i, NODES);
      List<String> passed = names(decisions.filter(args).result().passed());
      List<HostPriority> scores = decisions.prioritize(ExtenderArgsParser.parse(Requests.nodeCache("shop", "web-1-b" + i, "b" + i,
          "web-1", passed.toArray(String[]::new)))).priorities();
      HostPriority best = scores.stream().max((a, b) -> Integer.compare(a.score(), b.score())).orElseThrow();
      used.add(best.host());
    }
    return used;
  }

  @Test
  void scoresStayWithinZeroToTen() {
    List<HostPriority> scores = decisions.prioritize(request("shop", "x", NODES)).priorities();
    assertThat(scores).hasSize(NODES.length).allSatisfy(h -> assertThat(h.score()).isBetween(0, 10));
    assertThat(new ArrayList<>(scores.stream().map(HostPriority::host).toList())).containsExactly(NODES);
  }

  @Test
  void inFlightEntriesExpire() {
    decisions.filter(request("shop", "x", NODES));
    assertThat(inFlight.holdsSpot("x")).isPresent();
    clock.addAndGet(Duration.ofSeconds(61).toNanos());
    assertThat(inFlight.holdsSpot("x")).isEmpty();
  }
}
