package dev.dovetail.provisioner.disruption;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfig;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfigSpec;
import dev.dovetail.api.config.v1alpha1.CommitmentIntegration;
import dev.dovetail.api.config.v1alpha1.Consolidation;
import dev.dovetail.api.config.v1alpha1.PodEvictor;
import dev.dovetail.api.config.v1alpha1.ReplacementWindow;
import dev.dovetail.api.config.v1alpha1.ReservedInstance;
import dev.dovetail.api.disruption.Drain;
import dev.dovetail.api.harness.v1.WorkloadDistributionRule;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.Disruption;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.karpenter.v1.WellKnownTaints;
import dev.dovetail.provisioner.kube.DisruptedTaint;
import dev.dovetail.provisioner.nodepool.NodePoolStatusController;
import dev.dovetail.provisioner.testing.Expect;
import dev.dovetail.provisioner.testing.Kubelet;
import dev.dovetail.provisioner.testing.NodeClaims;
import dev.dovetail.provisioner.testing.NodeClasses;
import dev.dovetail.provisioner.testing.NodePools;
import dev.dovetail.provisioner.testing.OrchestratorConfigs;
import dev.dovetail.provisioner.testing.Pods;
import dev.dovetail.provisioner.testing.Rules;
import dev.dovetail.provisioner.testing.TestOperator;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithApiServer;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Consolidation of underutilized nodes on a real API server (nothing binds pods or registers nodes here
 * but the test, which plays kubelet): a replacement is launched and must be Initialized before the
 * candidate is deleted, the candidate meanwhile tainted {@code karpenter.sh/disrupted}; a command whose
 * replacement disappears is abandoned and the taint comes off; pods that fit on another node mean a
 * plain delete; and spot is not replaced by spot with the gate off. Each claim starts with
 * {@code karpenter.sh/do-not-disrupt} so nothing is decided while the test is still placing pods.
 */
@WithApiServer
class ConsolidationApiTest {
  @RegisterExtension
  final TestOperator.PerTest operator = new TestOperator.PerTest();

  private static final Disruption UNDERUTILIZED = new Disruption("0s", Disruption.ConsolidationPolicy.WhenEmptyOrUnderutilized, null);

  static String pool(KubernetesClient client, String capacityType, String... types) {
    return pool(client, UNDERUTILIZED, capacityType, types);
  }

  static String pool(KubernetesClient client, Disruption disruption, String capacityType, String... types) {
    return pool(client, disruption, List.of(capacityType), types);
  }

  static String pool(KubernetesClient client, Disruption disruption, List<String> capacityTypes, String... types) {
    EC2NodeClass nodeClass = Expect.readyNodeClass(client, NodeClasses.nodeClass());
    NodePool pool = client.resource(NodePools.nodePool(p -> p.nodeClass(nodeClass.getMetadata().getName()), p -> p.disruption(disruption),
        p -> p.requirements(NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_TYPE, types),
            NodeSelectorRequirementWithMinValues.in(WellKnownLabels.ZONE, "us-east-1a"),
            NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, capacityTypes.toArray(String[]::new))))).create();
    return pool.getMetadata().getName();
  }

  /** A claim of the pool on this type, joined, with one 500m pod running on it; protected (claim and node) until {@link #release}. */
  static String claimWithPod(KubernetesClient client, TestNamespace ns, String pool, String type, String capacityType) {
    return claimWith(client, pool, type, capacityType, Pods.pod(Pods.in(ns.name()), Pods.requests("500m", "512Mi")));
  }

  /** A claim of the pool on this type, joined, with these pods running on it; protected (claim and node) until {@link #release}. */
  static String claimWith(KubernetesClient client, String pool, String type, String capacityType, Pod... pods) {
    return claimWith(client, pool, type, capacityType, c -> c, pods);
  }

  /** {@link #claimWith(KubernetesClient, String, String, String, Pod...)}, the claim built with {@code extra} too. */
  static String claimWith(KubernetesClient client, String pool, String type, String capacityType, UnaryOperator<NodeClaims.Builder> extra,
      Pod... pods) {
    NodeClaim claim = client.resource(NodeClaims.nodeClaim(extra, c -> c.nodePool(pool),
        c -> c.nodeClass(client.resources(NodePool.class).withName(pool).get().getSpec().template().spec().nodeClassRef().name()),
        c -> c.annotation(Drain.DO_NOT_DISRUPT, "true"),
        c -> c.requirements(NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_TYPE, type),
            NodeSelectorRequirementWithMinValues.in(WellKnownLabels.ZONE, "us-east-1a"),
            NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, capacityType)))).create();
    String name = claim.getMetadata().getName();
    String node = Kubelet.join(client, name);
    for (Pod pod : pods) {
      Kubelet.runOn(client, pod, node);
    }
    return name;
  }

  /** Takes {@code do-not-disrupt} off the claim and its node (registration copied it there). */
  static void release(KubernetesClient client, String claim) {
    // A merge patch with the key set to null removes it (written by hand: the serializer leaves nulls out).
    String patch = "{\"metadata\":{\"annotations\":{\"" + Drain.DO_NOT_DISRUPT + "\":null}}}";
    client.nodes().withName(nodeOf(client, claim).getMetadata().getName()).patch(PatchContext.of(PatchType.JSON_MERGE), patch);
    client.resources(NodeClaim.class).withName(claim).patch(PatchContext.of(PatchType.JSON_MERGE), patch);
  }

  static List<NodeClaim> claims(KubernetesClient client, String pool) {
    return client.resources(NodeClaim.class).withLabel(WellKnownLabels.NODEPOOL, pool).list().getItems();
  }

  /** The pool's claim other than {@code candidate}, once there is one. */
  static NodeClaim replacement(KubernetesClient client, String pool, String candidate) {
    return Expect.eventually("a replacement NodeClaim in " + pool, () -> claims(client, pool).stream()
        .filter(c -> !c.getMetadata().getName().equals(candidate)).findFirst(), o -> o.isPresent()).orElseThrow();
  }

  static Node nodeOf(KubernetesClient client, String claim) {
    return client.nodes().withName(client.resources(NodeClaim.class).withName(claim).get().getStatus().nodeName()).get();
  }

  @Test
  void aBigNodeRunningLittleIsReplacedByACheaperOneThatMustBeInitializedBeforeTheBigOneGoes(KubernetesClient client, TestNamespace ns) {
    TestOperator provisioner = operator.start(client);
    String pool = pool(client, WellKnownLabels.ON_DEMAND, "m5.large", "m5.2xlarge");
    String big = claimWithPod(client, ns, pool, "m5.2xlarge", WellKnownLabels.ON_DEMAND);
    release(client, big);

    NodeClaim replacement = replacement(client, pool, big);
    String name = replacement.getMetadata().getName();
    assertThat(Expect.launched(client, name).getMetadata().getLabels()).containsEntry(WellKnownLabels.INSTANCE_TYPE, "m5.large");
    Expect.event(client, "default", big, "DisruptionLaunching");
    Expect.event(client, "default", big, "DisruptionWaitingReadiness");
    assertThat(DisruptedTaint.present(nodeOf(client, big))).as("the candidate is tainted while it waits").isTrue();
    Expect.condition(client, big, ConditionTypes.DISRUPTION_REASON, Condition.Status.True, "Underutilized");
    assertThat(client.resources(NodeClaim.class).withName(big).get().getMetadata().getDeletionTimestamp())
        .as("not deleted before its replacement is Initialized").isNull();
    // The decision's counters exist from its decision on, at 0, so a dashboard's increase() sees the one that follows.
    assertThat(decisions(provisioner)).as("the replace decision counted before it is carried out").isZero();
    assertThat(disrupted(provisioner, pool)).isZero();

    Kubelet.join(client, name);
    Expect.claim(client, big, "deleted once the replacement is Initialized", c -> c == null || c.getMetadata().getDeletionTimestamp() != null);
    Expect.event(client, "default", big, "DisruptionTerminating");
    assertThat(decisions(provisioner)).isEqualTo(1);
    assertThat(disrupted(provisioner, pool)).isEqualTo(1);
  }

  private static double decisions(TestOperator provisioner) {
    return provisioner.registry().get("karpenter.voluntary.disruption.decisions").tags("decision", "replace", "reason", "underutilized",
        "consolidation_type", "single").counter().count();
  }

  private static double disrupted(TestOperator provisioner, String pool) {
    return provisioner.registry().get("karpenter.nodeclaims.disrupted").tags("reason", "underutilized", "nodepool", pool,
        "capacity_type", WellKnownLabels.ON_DEMAND).counter().count();
  }

  @Test
  void aCommandWhoseReplacementIsGoneIsAbandonedAndTheTaintComesOff(KubernetesClient client, TestNamespace ns) {
    operator.start(client);
    String pool = pool(client, WellKnownLabels.ON_DEMAND, "m5.large", "m5.2xlarge");
    String big = claimWithPod(client, ns, pool, "m5.2xlarge", WellKnownLabels.ON_DEMAND);
    release(client, big);
    NodeClaim replacement = replacement(client, pool, big);
    Expect.eventually("the candidate tainted", () -> DisruptedTaint.present(nodeOf(client, big)), t -> t);
    Expect.condition(client, big, ConditionTypes.DISRUPTION_REASON, Condition.Status.True, "Underutilized");
    // Protect the candidate from the next decision, then take the replacement away before it ever joins.
    client.resources(NodeClaim.class).withName(big).patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"metadata\":{\"annotations\":{\"" + Drain.DO_NOT_DISRUPT + "\":\"true\"}}}");
    client.resources(NodeClaim.class).withName(replacement.getMetadata().getName()).delete();

    Expect.eventually("the taint off the candidate again", () -> DisruptedTaint.present(nodeOf(client, big)), t -> !t);
    Expect.claim(client, big, "without its DisruptionReason", c -> Expect.condition(c, ConditionTypes.DISRUPTION_REASON).isEmpty());
    assertThat(client.resources(NodeClaim.class).withName(big).get().getMetadata().getDeletionTimestamp()).isNull();
    assertThat(nodeOf(client, big).getSpec().getTaints()).noneMatch(t -> WellKnownTaints.DISRUPTED.equals(t.getKey()));
  }

  @Test
  void ofTwoHalfEmptyNodesOneIsDeletedAndItsPodFitsOnTheOther(KubernetesClient client, TestNamespace ns) {
    operator.start(client);
    String pool = pool(client, WellKnownLabels.ON_DEMAND, "m5.xlarge");
    String a = claimWithPod(client, ns, pool, "m5.xlarge", WellKnownLabels.ON_DEMAND);
    String b = claimWithPod(client, ns, pool, "m5.xlarge", WellKnownLabels.ON_DEMAND);
    release(client, a);
    release(client, b);

    List<NodeClaim> deleting = Expect.eventually("one of the two deleted",
        () -> claims(client, pool).stream().filter(c -> c.getMetadata().getDeletionTimestamp() != null).toList(), l -> !l.isEmpty());
    assertThat(deleting).hasSize(1);
    assertThat(claims(client, pool).stream().map(c -> c.getMetadata().getName()).collect(Collectors.toSet()))
        .as("no replacement: a plain delete").containsExactlyInAnyOrder(a, b);
    String gone = deleting.get(0).getMetadata().getName();
    String kept = gone.equals(a) ? b : a;
    // Play kubelet for the drain: the evicted pod stops; then the claim goes, and the other is looked at on its own.
    String drained = deleting.get(0).getStatus().nodeName();
    Pod evicted = Expect.eventually("the pod on " + drained + " evicted", () -> client.pods().inNamespace(ns.name()).list().getItems().stream()
        .filter(p -> drained.equals(p.getSpec().getNodeName()) && p.getMetadata().getDeletionTimestamp() != null).findFirst(), o -> o.isPresent())
        .orElseThrow();
    Kubelet.finishTermination(client, evicted);
    Expect.gone(client, NodeClaim.class, gone);
    assertThat(Expect.event(client, "default", kept, "Unconsolidatable").getMessage()).as("the other stays: nothing cheaper can hold its pod")
        .isEqualTo(new Unconsolidatable.NoCheaperReplacement(0.192).message());
    assertThat(client.resources(NodeClaim.class).withName(kept).get().getMetadata().getDeletionTimestamp()).isNull();
  }

  @Test
  void theOrchestratorConfigTurnsSpotToSpotOnAndKarpentersFloorOfFifteenTypesStillHolds(KubernetesClient client, TestNamespace ns) {
    operator.start(client);
    ClusterOrchestratorConfig config = OrchestratorConfigs.consolidation(new Consolidation(null, null, null, null, null, true, null));
    client.resource(config).create();
    try {
      String pool = pool(client, WellKnownLabels.SPOT, "m5.large", "m5.2xlarge");
      String big = claimWithPod(client, ns, pool, "m5.2xlarge", WellKnownLabels.SPOT);
      release(client, big);
      // Spot-to-spot is on; with one cheaper spot type (m5.large) the single-node floor keeps the node.
      assertThat(Expect.event(client, "default", big, "Unconsolidatable").getMessage())
          .isEqualTo(new Unconsolidatable.TooFewCheaperSpotTypes(1, Consolidator.SPOT_TO_SPOT_MIN_TYPES).message());
    } finally {
      client.resources(ClusterOrchestratorConfig.class).withName(ClusterOrchestratorConfig.NAME).delete();
    }
  }

  @Test
  void spotIsNotReplacedWithSpotWhileTheGateIsOff(KubernetesClient client, TestNamespace ns) {
    operator.start(client);
    String pool = pool(client, WellKnownLabels.SPOT, "m5.large", "m5.2xlarge");
    String big = claimWithPod(client, ns, pool, "m5.2xlarge", WellKnownLabels.SPOT);
    release(client, big);

    assertThat(Expect.event(client, "default", big, "Unconsolidatable").getMessage())
        .isEqualTo(new Unconsolidatable.SpotToSpotDisabled().message());
    assertThat(claims(client, pool)).singleElement().satisfies(c -> assertThat(c.getMetadata().getDeletionTimestamp()).isNull());
  }

  @Test
  void outsideTheReplacementWindowConsolidationWaitsAndSaysWhy(KubernetesClient client, TestNamespace ns) {
    TestOperator provisioner = operator.start(client);
    ClusterOrchestratorConfig config = OrchestratorConfigs.replacementWindow(new ReplacementWindow("Never", null, null));
    client.resource(config).create();
    try {
      String pool = pool(client, WellKnownLabels.ON_DEMAND, "m5.large", "m5.2xlarge");
      String big = claimWithPod(client, ns, pool, "m5.2xlarge", WellKnownLabels.ON_DEMAND);
      release(client, big);

      assertThat(Expect.event(client, "default", big, "DisruptionBlocked").getMessage())
          .startsWith("Outside the replacement window (Never, consolidation)");
      assertThat(provisioner.registry().find("dovetail.replacement.window.open").tag("operation", "consolidation").gauge().value()).isZero();
      assertThat(claims(client, pool)).singleElement().satisfies(c -> assertThat(c.getMetadata().getDeletionTimestamp()).isNull());
      NodePool closed = Expect.eventually("the pool's window condition False", () -> client.resources(NodePool.class).withName(pool).get(),
          p -> p.getStatus() != null && Expect.has(p.getStatus().conditions(), NodePoolStatusController.CONSOLIDATION_WINDOW_OPEN,
              Condition.Status.False, "OutsideReplacementWindow"));
      assertThat(Expect.get(closed.getStatus().conditions(), NodePoolStatusController.CONSOLIDATION_WINDOW_OPEN).orElseThrow().message())
          .startsWith("Outside the replacement window (Never, consolidation)");

      // A disabled config pauses graceful disruption whatever its window says.
      client.resources(ClusterOrchestratorConfig.class).withName(ClusterOrchestratorConfig.NAME).patch(PatchContext.of(PatchType.JSON_MERGE),
          "{\"spec\":{\"disabled\":true,\"replacementWindow\":{\"replacementWindowType\":\"Always\"}}}");
      assertThat(Expect.eventually("DisruptionBlocked: paused", () -> Expect.events(client, "default", big).stream()
          .filter(e -> "DisruptionBlocked".equals(e.getReason()) && e.getMessage().startsWith("Paused")).findFirst(), o -> o.isPresent())
          .orElseThrow().getMessage()).isEqualTo("Paused: ClusterOrchestratorConfig default is disabled (spec.disabled)");
      assertThat(claims(client, pool)).singleElement();
      client.resources(ClusterOrchestratorConfig.class).withName(ClusterOrchestratorConfig.NAME).patch(PatchContext.of(PatchType.JSON_MERGE),
          "{\"spec\":{\"disabled\":false}}");
      Expect.eventually("the pool's window condition True", () -> client.resources(NodePool.class).withName(pool).get(),
          p -> Expect.has(p.getStatus().conditions(), NodePoolStatusController.CONSOLIDATION_WINDOW_OPEN, Condition.Status.True, null));
      Expect.eventually("a replacement NodeClaim once the window is open", () -> claims(client, pool).stream()
          .filter(c -> !c.getMetadata().getName().equals(big)).findFirst(), o -> o.isPresent());
    } finally {
      client.resources(ClusterOrchestratorConfig.class).withName(ClusterOrchestratorConfig.NAME).delete();
    }
  }

  /**
   * A replica its rule puts all on spot runs on an on-demand m5.2xlarge built with {@code extra}; the labels of
   * the (m5.large) replacement consolidation launches for it.
   */
  private Map<String, String> replacementOfAnAllSpotReplicaOnOnDemand(KubernetesClient client, TestNamespace ns,
      UnaryOperator<NodeClaims.Builder> extra) {
    operator.start(client);
    WorkloadDistributionRule rule = Rules.create(client, ns.name(), 100);
    try {
      String pool = pool(client, UNDERUTILIZED, List.of(WellKnownLabels.SPOT, WellKnownLabels.ON_DEMAND), "m5.large", "m5.2xlarge");
      String big = claimWith(client, pool, "m5.2xlarge", WellKnownLabels.ON_DEMAND, extra, Pods.pod(Pods.in(ns.name()), Pods.requests("500m", "512Mi")));
      release(client, big);
      NodeClaim replacement = replacement(client, pool, big);
      Map<String, String> labels = Expect.launched(client, replacement.getMetadata().getName()).getMetadata().getLabels();
      assertThat(labels).containsEntry(WellKnownLabels.INSTANCE_TYPE, "m5.large");
      return labels;
    } finally {
      client.resource(rule).delete();
    }
  }

  @Test
  void aPodUnderADistributionRuleKeepsItsCapacityTypeWhenItsNodeIsReplaced(KubernetesClient client, TestNamespace ns) {
    // All spot by the rule, yet the pod runs on plain on-demand (placed before the rule, say): consolidation is not the place to move it.
    assertThat(replacementOfAnAllSpotReplicaOnOnDemand(client, ns, c -> c)).containsEntry(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.ON_DEMAND)
        .doesNotContainKey(DovetailLabels.CAPACITY_FALLBACK);
  }

  @Test
  void aReplicaOnFallbackCapacityStaysOnFallbackCapacityWhenItsNodeIsReplacedThoughSpotIsThere(KubernetesClient client, TestNamespace ns) {
    // Going back to spot is reverse fallback's, on its interval and in its window: consolidation keeps the replica where it stands in.
    assertThat(replacementOfAnAllSpotReplicaOnOnDemand(client, ns, c -> c.label(DovetailLabels.CAPACITY_FALLBACK, "true")))
        .containsEntry(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.ON_DEMAND).containsEntry(DovetailLabels.CAPACITY_FALLBACK, "true");
  }

  @Test
  void aNodeAnUnusedCommitmentCoversIsPricedAsCoveredAndNotReplacedByTheSameType(KubernetesClient client, TestNamespace ns) {
    operator.start(client);
    // Two Reserved m5.xlarge, one in use: the running one is as good as paid for, so a committed m5.xlarge is no cheaper.
    client.resource(OrchestratorConfigs.of(new ClusterOrchestratorConfigSpec(null, new CommitmentIntegration(true, "123456789012",
        List.of(new ReservedInstance("m5.xlarge", "us-east-1a", 2))), null, null, null, null))).create();
    try {
      String pool = pool(client, WellKnownLabels.ON_DEMAND, "m5.xlarge");
      String covered = claimWithPod(client, ns, pool, "m5.xlarge", WellKnownLabels.ON_DEMAND);
      release(client, covered);
      unconsolidatable(client, covered, "can't replace with a cheaper node");
      assertThat(claims(client, pool)).as("no replacement").extracting(c -> c.getMetadata().getName()).containsExactly(covered);
    } finally {
      client.resources(ClusterOrchestratorConfig.class).withName(ClusterOrchestratorConfig.NAME).delete();
    }
  }

  @Test
  void theOrchestratorConfigsPodEvictorDecidesWhichNodesOfAManagedPoolAreUnderUsed(KubernetesClient client, TestNamespace ns) {
    operator.start(client);
    String pool = pool(client, WellKnownLabels.ON_DEMAND, "m5.large", "m5.2xlarge");
    client.resources(NodePool.class).withName(pool).patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"metadata\":{\"labels\":{\"" + DovetailLabels.ORCHESTRATED + "\":\"true\"}}}");
    String big = claimWithPod(client, ns, pool, "m5.2xlarge", WellKnownLabels.ON_DEMAND);
    // Under-used means below 5 % CPU: the bare 500m pod asks for about 6 % of an m5.2xlarge.
    ClusterOrchestratorConfig config = OrchestratorConfigs.consolidation(new Consolidation(null, "Underutilized", "0s", null, null, null, new PodEvictor(true, false, 5, 30, 20)));
    client.resource(config).create();
    try {
      Expect.eventually("the config's delay on the pool", () -> client.resources(NodePool.class).withName(pool).get(),
          p -> "0s".equals(p.getSpec().disruption().consolidateAfter()) && p.getSpec().disruption().consolidationPolicy()
              == Disruption.ConsolidationPolicy.WhenEmptyOrUnderutilized);
      release(client, big);
      unconsolidatable(client, big, "the pod evictor consolidates only below 5% CPU");

      patch(client, "{\"spec\":{\"consolidation\":{\"podEvictor\":{\"minimumCpu\":30}}}}");
      unconsolidatable(client, big, "is its workload's only replica");
      assertThat(claims(client, pool)).as("nothing replaced while the evictor says no").singleElement();

      patch(client, "{\"spec\":{\"consolidation\":{\"podEvictor\":{\"evictSingleReplicas\":true}}}}");
      assertThat(Expect.launched(client, replacement(client, pool, big).getMetadata().getName()).getMetadata().getLabels())
          .containsEntry(WellKnownLabels.INSTANCE_TYPE, "m5.large");
    } finally {
      client.resources(ClusterOrchestratorConfig.class).withName(ClusterOrchestratorConfig.NAME).delete();
    }
  }

  private static void patch(KubernetesClient client, String json) {
    client.resources(ClusterOrchestratorConfig.class).withName(ClusterOrchestratorConfig.NAME).patch(PatchContext.of(PatchType.JSON_MERGE), json);
  }

  /** Waits for an {@code Unconsolidatable} Event on the claim whose message holds this text. */
  private static void unconsolidatable(KubernetesClient client, String claim, String text) {
    Expect.eventually("Unconsolidatable: ..." + text, () -> Expect.events(client, "default", claim).stream()
        .filter(e -> "Unconsolidatable".equals(e.getReason()) && e.getMessage().contains(text)).findFirst(), o -> o.isPresent());
  }
}
