package dev.dovetail.provisioner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfig;
import dev.dovetail.api.config.v1alpha1.Consolidation;
import dev.dovetail.api.config.v1alpha1.PodEvictor;
import dev.dovetail.api.disruption.Drain;
import dev.dovetail.api.harness.v1.WorkloadDistributionRule;
import dev.dovetail.api.karpenter.v1.Budget;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.Disruption;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeClaimTemplate;
import dev.dovetail.api.karpenter.v1.NodeClaimTemplateSpec;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.NodePoolSpec;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.Taint;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.cluster.Caches;
import dev.dovetail.provisioner.disruption.Repair;
import dev.dovetail.provisioner.testing.Expect;
import dev.dovetail.provisioner.testing.OrchestratorConfigs;
import dev.dovetail.provisioner.testing.Rules;
import dev.dovetail.runtime.PrometheusText;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithCluster;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Disruption on the real control plane (kube-scheduler, kube-controller-manager, kwok nodes, the sim
 * cloud): nodes the pool's policy lets go are removed, within its budgets, and never a protected one.
 */
@WithCluster(schedulerConfig = "manifests/scheduler/local-extender.yaml")
class DisruptionE2EIT {
  /** The node monitoring agent's condition for the node's networking. */
  private static final String NETWORKING_READY = "NetworkingReady";
  private static InProcess dovetail;

  @BeforeAll
  static void start(KubernetesClient client) throws Exception {
    // Node repair on, with a broken network tolerated ten seconds (AWS's policy waits 30 minutes).
    dovetail = InProcess.start(client, Fixtures.settings("disruption-e2e", false).withDisruption(new Operator.Disruption(Duration.ofSeconds(2), false,
        List.of(new Repair.Policy(NETWORKING_READY, "False", Duration.ofSeconds(10))))));
  }

  /** The pools (and node classes) this test made, by label: removed after it with their nodes, so no later class finds them. */
  private final List<String> made = new ArrayList<>();

  /**
   * A pool of this test's (name, node class and node label {@code <prefix>-<random>}), of on-demand nodes
   * the requirements allow; its node class created, the pool itself not yet.
   */
  private NodePool onDemandPool(KubernetesClient client, String prefix, NodeSelectorRequirementWithMinValues... requirements) {
    NodeSelectorRequirementWithMinValues[] all = Arrays.copyOf(requirements, requirements.length + 1);
    all[requirements.length] = NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, "on-demand");
    return pool(client, prefix, all);
  }

  /** {@link #onDemandPool}, of the capacity types the requirements allow (both unless they say). */
  private NodePool pool(KubernetesClient client, String prefix, NodeSelectorRequirementWithMinValues... requirements) {
    String label = Fixtures.unique(prefix);
    made.add(label);
    client.resources(EC2NodeClass.class).resource(Fixtures.nodeClass(label)).create();
    return Fixtures.nodePool(label, label, label, null, null, requirements);
  }

  /**
   * Deletes the test's NodeClaims, NodePool and EC2NodeClass while this class's provisioner still runs to
   * terminate them: a node left behind would be a later test class's to disrupt (with its own cloud).
   */
  @AfterEach
  void removeWhatTheTestMade(KubernetesClient client, TestNamespace ns) {
    // The workloads first, so the drains have nothing to wait for (no budget to honour, no replica to come back).
    client.apps().deployments().inNamespace(ns.name()).delete();
    client.policy().v1().podDisruptionBudget().inNamespace(ns.name()).delete();
    client.pods().inNamespace(ns.name()).withGracePeriod(0).delete();
    for (String label : made) {
      client.resources(NodePool.class).withName(label).delete();
      client.resources(NodeClaim.class).withLabel(WellKnownLabels.NODEPOOL, label).delete();
    }
    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> assertThat(made)
        .allSatisfy(label -> assertThat(ProvisioningE2EIT.claimsOf(client, label)).as("NodeClaims of %s", label).isEmpty()));
    made.forEach(label -> client.resources(EC2NodeClass.class).withName(label).delete());
    made.clear();
    client.resources(ClusterOrchestratorConfig.class).withName(ClusterOrchestratorConfig.NAME).delete();
    client.resources(WorkloadDistributionRule.class).withName(ns.name()).delete();
  }

  @AfterAll
  static void stop() throws Exception {
    if (dovetail != null) {
      dovetail.close();
    }
  }

  /**
   * Four nodes, one pod each; one node carries karpenter.sh/do-not-disrupt. The deployment scales to zero:
   * the pool (WhenEmpty, consolidateAfter 5s, a budget of one node) removes the three others one at a
   * time, which a watch on the claims checks throughout, says DisruptionBlocked for those that wait, and
   * keeps the protected one.
   */
  @Test
  void emptyNodesGoOneAtATimeWithinTheBudgetAndAProtectedNodeStays(KubernetesClient client, TestNamespace ns) {
    NodePool pool = onDemandPool(client, "empty",
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_CPU, "2"));
    String label = pool.getMetadata().getName();
    pool.setSpec(new NodePoolSpec(pool.getSpec().template(), new Disruption("5s", Disruption.ConsolidationPolicy.WhenEmpty,
        List.of(Budget.nodes("1"))), null, null, null));
    client.resources(NodePool.class).resource(pool).create();
    client.apps().deployments().resource(Fixtures.deployment(ns.name(), "web", 4, "1500m", "1Gi", label)).create();
    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> assertThat(
        client.pods().inNamespace(ns.name()).list().getItems()).as(() -> ClusterDump.of(client, ns.name()))
        .hasSize(4).allSatisfy(p -> assertThat(p.getStatus().getPhase()).isEqualTo("Running")));
    assertThat(ProvisioningE2EIT.claimsOf(client, label)).hasSize(4);
    String protectedNode = client.pods().inNamespace(ns.name()).list().getItems().get(0).getSpec().getNodeName();
    // A merge patch without a resourceVersion: kwok and the provisioner write the node too.
    client.nodes().withName(protectedNode).patch(PatchContext.of(PatchType.JSON_MERGE),
        Serialization.asJson(Map.of("metadata", Map.of("annotations", Map.of(Drain.DO_NOT_DISRUPT, "true")))));

    Set<String> deleting = ConcurrentHashMap.newKeySet();
    AtomicInteger most = new AtomicInteger();
    try (SharedIndexInformer<NodeClaim> watch = client.resources(NodeClaim.class).withLabel(WellKnownLabels.NODEPOOL, label)
        .inform(Caches.handler(claim -> {
          if (claim.getMetadata().getDeletionTimestamp() != null) {
            deleting.add(claim.getMetadata().getName());
            most.accumulateAndGet(deleting.size(), Math::max);
          }
        }, (claim, unknown) -> deleting.remove(claim.getMetadata().getName())))) {
      Map<String, String> claimOfNode = new ConcurrentHashMap<>();
      ProvisioningE2EIT.claimsOf(client, label).forEach(c -> claimOfNode.put(c.getStatus().nodeName(), c.getMetadata().getName()));
      client.apps().deployments().inNamespace(ns.name()).withName("web").scale(0);

      await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
        List<NodeClaim> left = ProvisioningE2EIT.claimsOf(client, label);
        assertThat(left).as(() -> ClusterDump.of(client, ns.name())).singleElement()
            .satisfies(c -> assertThat(c.getStatus().nodeName()).isEqualTo(protectedNode));
      });
      assertThat(most.get()).as("claims deleting at once, with a budget of one node").isEqualTo(1);
      List<Event> events = client.v1().events().inNamespace("default").list().getItems();
      assertThat(events).as("a candidate the budget held back says so")
          .anySatisfy(e -> {
            assertThat(e.getReason()).isEqualTo("DisruptionBlocked");
            assertThat(claimOfNode.values()).contains(e.getInvolvedObject().getName());
            assertThat(e.getMessage()).contains("Empty", "budget");
          });
      assertThat(dovetail.scrape())
          .containsPattern("karpenter_voluntary_disruption_decisions_total\\{consolidation_type=\"empty\",decision=\"delete\",reason=\"empty\",?} 3\\.0")
          .containsPattern("karpenter_nodepools_allowed_disruptions\\{nodepool=\"" + label + "\",reason=\"empty\",?} 1");
    }
    // The protected node's claim is there still, and its pod-less node is not being drained.
    assertThat(client.nodes().withName(protectedNode).get().getSpec().getTaints()).noneMatch(t -> WellKnownLabels.DISRUPTED_TAINT.equals(t.getKey()));
    List<Pod> left = client.pods().inNamespace(ns.name()).list().getItems();
    assertThat(left).isEmpty();
  }

  /**
   * A budget of zero nodes whose schedule is in force (every hour, for an hour: always) holds an empty node
   * and says so (DisruptionBlocked naming the budget, karpenter_nodepools_allowed_disruptions 0); once the
   * budget is lifted the node goes.
   */
  @Test
  void aZeroBudgetWhoseScheduleIsInForceHoldsAnEmptyNodeAndSaysWhy(KubernetesClient client, TestNamespace ns) {
    NodePool pool = Fixtures.withDisruption(onDemandPool(client, "window",
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_CPU, "2")),
        new Disruption("5s", Disruption.ConsolidationPolicy.WhenEmpty, List.of(new Budget(null, "0", "0 * * * *", "1h"))));
    String label = pool.getMetadata().getName();
    client.resources(NodePool.class).resource(pool).create();
    client.apps().deployments().resource(Fixtures.deployment(ns.name(), "web", 1, "1500m", "1Gi", label)).create();
    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> assertThat(running(client, ns))
        .as(() -> ClusterDump.of(client, ns.name())).hasSize(1));
    String claim = ProvisioningE2EIT.claimsOf(client, label).get(0).getMetadata().getName();
    client.apps().deployments().inNamespace(ns.name()).withName("web").scale(0);

    await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> assertThat(
        client.v1().events().inNamespace("default").withField("involvedObject.name", claim).list().getItems()).anySatisfy(e -> {
          assertThat(e.getReason()).isEqualTo("DisruptionBlocked");
          assertThat(e.getMessage()).contains("Empty", "budget");
        }));
    assertThat(dovetail.scrape()).containsPattern("karpenter_nodepools_allowed_disruptions\\{nodepool=\"" + label + "\",reason=\"empty\",?} 0");
    assertThat(client.resources(NodeClaim.class).withName(claim).get().getMetadata().getDeletionTimestamp()).as("held by the budget").isNull();

    client.resources(NodePool.class).withName(label).patch(PatchContext.of(PatchType.JSON_MERGE),
        Serialization.asJson(Map.of("spec", Map.of("disruption", Map.of("budgets", List.of(Map.of("nodes", "1")))))));
    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> assertThat(
        ProvisioningE2EIT.claimsOf(client, label)).as(() -> ClusterDump.of(client, ns.name())).isEmpty());
  }

  /**
   * A big node left running one small pod (its big neighbour scaled away) is replaced by a cheaper one: the
   * replacement is launched and Initialized before the big node is deleted (a watch checks the order), the
   * pod is evicted, kube-scheduler puts it on the new node, and the pool ends with the cheaper node only.
   */
  @Test
  void aBigNodeRunningLittleIsReplacedByACheaperNodeAndItsPodMovesThere(KubernetesClient client, TestNamespace ns) {
    NodePool pool = onDemandPool(client, "under",
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_TYPE, "m5.large", "m5.2xlarge"));
    String label = pool.getMetadata().getName();
    pool.setSpec(new NodePoolSpec(pool.getSpec().template(), new Disruption("5s", Disruption.ConsolidationPolicy.WhenEmptyOrUnderutilized, null),
        null, null, null));
    client.resources(NodePool.class).resource(pool).create();
    String bigName = bigAndSmallOnOneNode(client, ns, label).getMetadata().getName();
    // The class shares one provisioner: count this test's decision, not the ones before it.
    double replacedBefore = singleReplacements(dovetail.scrape());

    AtomicBoolean replacementFirst = new AtomicBoolean();
    AtomicBoolean bigDeleting = new AtomicBoolean();
    try (SharedIndexInformer<NodeClaim> watch = client.resources(NodeClaim.class).withLabel(WellKnownLabels.NODEPOOL, label)
        .inform(Caches.handler(claim -> {
          if (claim.getMetadata().getName().equals(bigName) && claim.getMetadata().getDeletionTimestamp() != null
              && bigDeleting.compareAndSet(false, true)) {
            replacementFirst.set(client.resources(NodeClaim.class).withLabel(WellKnownLabels.NODEPOOL, label).list().getItems().stream()
                .anyMatch(c -> !c.getMetadata().getName().equals(bigName) && c.getStatus() != null && c.getStatus().conditions() != null
                    && c.getStatus().conditions().stream().anyMatch(x -> x.type().equals("Initialized") && x.isTrue())));
          }
        }, (claim, unknown) -> { }))) {
      client.apps().deployments().inNamespace(ns.name()).withName("big").scale(0);

      await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
        List<NodeClaim> left = ProvisioningE2EIT.claimsOf(client, label);
        assertThat(left).as(() -> ClusterDump.of(client, ns.name())).singleElement()
            .satisfies(c -> assertThat(c.getMetadata().getLabels()).containsEntry(WellKnownLabels.INSTANCE_TYPE, "m5.large"));
        assertThat(client.pods().inNamespace(ns.name()).list().getItems()).singleElement().satisfies(p -> {
          assertThat(p.getStatus().getPhase()).isEqualTo("Running");
          assertThat(p.getSpec().getNodeName()).isEqualTo(left.get(0).getStatus().nodeName());
        });
      });
      assertThat(replacementFirst).as("the replacement was Initialized before the big node was deleted").isTrue();
      assertThat(singleReplacements(dovetail.scrape())).as("single-node replacements").isEqualTo(replacedBefore + 1);
      assertThat(client.v1().events().inNamespace("default").withField("involvedObject.name", bigName).list().getItems())
          .extracting(Event::getReason).contains("DisruptionLaunching", "DisruptionWaitingReadiness", "DisruptionTerminating");
    }
  }

  /**
   * The same move under a distribution rule that puts the namespace's replicas on on-demand, in a pool that
   * allows spot too: the small pod's cheaper home is an on-demand m5.large, never the cheaper spot one (a
   * consolidation keeps a governed replica's capacity type), and no spot NodeClaim is made at any time (a
   * watch on the claims).
   */
  @Test
  void aConsolidationKeepsAGovernedReplicaOnTheCapacityTypeItsRuleGaveIt(KubernetesClient client, TestNamespace ns) {
    Rules.create(client, ns.name(), 0);
    NodePool pool = pool(client, "kept", NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_TYPE, "m5.large", "m5.2xlarge"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, "spot", "on-demand"));
    String label = pool.getMetadata().getName();
    pool.setSpec(new NodePoolSpec(pool.getSpec().template(), new Disruption("5s", Disruption.ConsolidationPolicy.WhenEmptyOrUnderutilized, null),
        null, null, null));
    client.resources(NodePool.class).resource(pool).create();
    Set<String> spot = ConcurrentHashMap.newKeySet();
    try (SharedIndexInformer<NodeClaim> watch = client.resources(NodeClaim.class).withLabel(WellKnownLabels.NODEPOOL, label)
        .inform(Caches.handler(claim -> {
          if (WellKnownLabels.SPOT.equals(claim.getMetadata().getLabels().get(WellKnownLabels.CAPACITY_TYPE))) {
            spot.add(claim.getMetadata().getName());
          }
        }, (claim, unknown) -> { }))) {
      assertThat(bigAndSmallOnOneNode(client, ns, label).getMetadata().getLabels()).as("the rule's on-demand")
          .containsEntry(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.ON_DEMAND);

      client.apps().deployments().inNamespace(ns.name()).withName("big").scale(0);
      await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
        List<NodeClaim> left = ProvisioningE2EIT.claimsOf(client, label);
        assertThat(left).as(() -> ClusterDump.of(client, ns.name())).singleElement().satisfies(c -> assertThat(c.getMetadata().getLabels())
            .containsEntry(WellKnownLabels.INSTANCE_TYPE, "m5.large").containsEntry(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.ON_DEMAND));
        assertThat(client.pods().inNamespace(ns.name()).list().getItems()).singleElement().satisfies(p -> {
          assertThat(p.getStatus().getPhase()).isEqualTo("Running");
          assertThat(p.getSpec().getNodeName()).isEqualTo(left.get(0).getStatus().nodeName());
        });
      });
      assertThat(spot).as("spot NodeClaims made").isEmpty();
    }
  }

  /**
   * Sixty replicas scaled to ten: consolidation folds the nodes into a cheaper set while a watch on the pods
   * proves the PodDisruptionBudget (minAvailable 8) was never broken and no replacement pod waited more than
   * 30 s for its node.
   */
  @Test
  void aDeploymentScaledDownConsolidatesToCheaperNodesWithoutBreakingItsBudget(KubernetesClient client, TestNamespace ns) {
    NodePool pool = onDemandPool(client, "down",
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_FAMILY, "m5"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_CPU, "2", "4", "8"));
    String label = pool.getMetadata().getName();
    pool.setSpec(new NodePoolSpec(pool.getSpec().template(), new Disruption("5s", Disruption.ConsolidationPolicy.WhenEmptyOrUnderutilized,
        List.of(Budget.nodes("50%"))), null, null, null));
    client.resources(NodePool.class).resource(pool).create();
    client.apps().deployments().resource(Fixtures.deployment(ns.name(), "web", 60, "250m", "256Mi", label)).create();
    await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> assertThat(
        client.pods().inNamespace(ns.name()).list().getItems()).as(() -> ClusterDump.of(client, ns.name()))
        .hasSize(60).allSatisfy(p -> assertThat(p.getStatus().getPhase()).isEqualTo("Running")));
    double before = cost(client, label);
    int nodesBefore = ProvisioningE2EIT.claimsOf(client, label).size();
    client.policy().v1().podDisruptionBudget().resource(new PodDisruptionBudgetBuilder().withNewMetadata().withName("web")
        .withNamespace(ns.name()).endMetadata().withNewSpec().withMinAvailable(new IntOrString(8)).withNewSelector()
        .addToMatchLabels("app", "web").endSelector().endSpec().build()).create();

    Instant watching = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    Map<String, Duration> pending = new ConcurrentHashMap<>();
    Set<String> ready = ConcurrentHashMap.newKeySet();
    AtomicBoolean settled = new AtomicBoolean();
    AtomicInteger fewest = new AtomicInteger(Integer.MAX_VALUE);
    Runnable count = () -> {
      synchronized (ready) {
        if (ready.size() == 10) {
          settled.set(true);
        }
        if (settled.get()) {
          fewest.accumulateAndGet(ready.size(), Math::min);
        }
      }
    };
    try (SharedIndexInformer<Pod> watch = client.pods().inNamespace(ns.name()).inform(Caches.handler(pod -> {
      String name = pod.getMetadata().getName();
      Instant created = Instant.parse(pod.getMetadata().getCreationTimestamp());
      boolean isReady = pod.getMetadata().getDeletionTimestamp() == null && pod.getStatus() != null && pod.getStatus().getConditions() != null
          && pod.getStatus().getConditions().stream().anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
      if (isReady && !created.isBefore(watching)) {
        pending.putIfAbsent(name, Duration.between(created, Instant.now()));
      }
      if (isReady) {
        ready.add(name);
      } else {
        ready.remove(name);
      }
      count.run();
    }, (pod, unknown) -> {
      ready.remove(pod.getMetadata().getName());
      count.run();
    }))) {
      client.apps().deployments().inNamespace(ns.name()).withName("web").scale(10);

      await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
        assertThat(client.pods().inNamespace(ns.name()).list().getItems()).as(() -> ClusterDump.of(client, ns.name())).hasSize(10)
            .allSatisfy(p -> assertThat(p.getStatus().getPhase()).isEqualTo("Running"));
        List<NodeClaim> claims = ProvisioningE2EIT.claimsOf(client, label);
        assertThat(claims).as("consolidated").allSatisfy(c -> assertThat(c.getMetadata().getDeletionTimestamp()).isNull())
            .hasSizeLessThan(nodesBefore);
        // 10 x 250m fit one 4-CPU node; the packing bound for the 8-CPU and 4-CPU sizes is one node.
        assertThat(cost(client, label)).as("cost per hour after, before was %s", before).isLessThanOrEqualTo(before / 2);
      });
      assertThat(fewest.get()).as("ready replicas never below the budget's minAvailable").isGreaterThanOrEqualTo(8);
      assertThat(pending).as("no pod waited more than 30 s to be ready")
          .allSatisfy((pod, waited) -> assertThat(waited).isLessThanOrEqualTo(Duration.ofSeconds(30)));
    }
  }

  /**
   * Three nodes, one pod each, a budget of one node, and a startup taint this test takes off (playing the
   * agent that would): a change to the EC2NodeClass (its tags are in its hash) drifts all three
   * (NodeClassDrift). While the first replacement waits for its startup taint, the other two are held
   * back by the budget (DisruptionBlocked) and only one old claim carries DisruptionReason; once the test
   * lets replacements initialize, drift replaces the rest one at a time, each replacement made before its
   * old node goes (a watch on the claims checks both throughout), and every pod ends Running on a new node.
   */
  @Test
  void anEc2NodeClassChangeRollsEveryNodeOneAtATimeWithinTheBudget(KubernetesClient client, TestNamespace ns) {
    NodePool pool = onDemandPool(client, "drift",
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_CPU, "2"));
    String label = pool.getMetadata().getName();
    NodeClaimTemplateSpec spec = pool.getSpec().template().spec();
    // Consolidation never: only drift moves anything here.
    pool.setSpec(new NodePoolSpec(new NodeClaimTemplate(pool.getSpec().template().metadata(), new NodeClaimTemplateSpec(spec.taints(),
        List.of(Taint.of(STARTUP_TAINT, "true", Taint.Effect.NoSchedule)), spec.requirements(), spec.nodeClassRef(), null, null)),
        new Disruption("Never", Disruption.ConsolidationPolicy.WhenEmpty, List.of(Budget.nodes("1"))), null, null, null));
    client.resources(NodePool.class).resource(pool).create();
    client.apps().deployments().resource(Fixtures.deployment(ns.name(), "web", 3, "1500m", "1Gi", label)).create();
    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
      releaseStartupTaints(client, label);
      assertThat(client.pods().inNamespace(ns.name()).list().getItems()).as(() -> ClusterDump.of(client, ns.name()))
          .hasSize(3).allSatisfy(p -> assertThat(p.getStatus().getPhase()).isEqualTo("Running"));
    });
    Set<String> old = ConcurrentHashMap.newKeySet();
    ProvisioningE2EIT.claimsOf(client, label).forEach(c -> old.add(c.getMetadata().getName()));
    assertThat(old).hasSize(3);

    Set<String> disrupting = ConcurrentHashMap.newKeySet();
    Set<String> driftedBy = ConcurrentHashMap.newKeySet();
    AtomicInteger most = new AtomicInteger();
    AtomicBoolean deletedBeforeItsReplacement = new AtomicBoolean();
    try (SharedIndexInformer<NodeClaim> watch = client.resources(NodeClaim.class).withLabel(WellKnownLabels.NODEPOOL, label)
        .inform(Caches.handler(claim -> {
          String name = claim.getMetadata().getName();
          List<Condition> conditions = claim.getStatus() == null || claim.getStatus().conditions() == null ? List.of() : claim.getStatus().conditions();
          conditions.stream().filter(c -> c.type().equals(ConditionTypes.DRIFTED) && c.isTrue()).forEach(c -> driftedBy.add(c.reason()));
          boolean underWay = claim.getMetadata().getDeletionTimestamp() != null
              || conditions.stream().anyMatch(c -> c.type().equals(ConditionTypes.DISRUPTION_REASON) && c.isTrue());
          if (old.contains(name) && underWay && disrupting.add(name)) {
            most.accumulateAndGet(disrupting.size(), Math::max);
          }
          if (old.contains(name) && claim.getMetadata().getDeletionTimestamp() != null) {
            // Replacement first: there are at least as many new claims as old ones gone or going.
            long replacements = client.resources(NodeClaim.class).withLabel(WellKnownLabels.NODEPOOL, label).list().getItems().stream()
                .filter(c -> !old.contains(c.getMetadata().getName())).count();
            if (replacements < 3 - old.size() + 1) {
              deletedBeforeItsReplacement.set(true);
            }
          }
        }, (claim, unknown) -> {
          String name = claim.getMetadata().getName();
          if (old.remove(name)) {
            disrupting.remove(name);
          }
        }))) {
      client.resources(EC2NodeClass.class).withName(label).patch(PatchContext.of(PatchType.JSON_MERGE),
          Serialization.asJson(Map.of("spec", Map.of("tags", Map.of("rollout", "2")))));

      // The first replacement waits for its startup taint. Meanwhile drift is weighed pass after pass (its evaluation count
      // rises): the budget must keep the two other drifted claims back, so only one old claim is under way.
      await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> assertThat(
          ProvisioningE2EIT.claimsOf(client, label)).as(() -> ClusterDump.of(client, ns.name()))
          .anySatisfy(c -> assertThat(old).doesNotContain(c.getMetadata().getName())));
      double evaluated = driftEvaluations(dovetail.scrape());
      await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
          .untilAsserted(() -> assertThat(driftEvaluations(dovetail.scrape())).isGreaterThanOrEqualTo(evaluated + 3));
      assertThat(disrupting).as("old claims under way while the first replacement waits").hasSize(1);
      assertThat(client.v1().events().inNamespace("default").list().getItems()).as("a drifted claim the budget holds back says so")
          .anySatisfy(e -> {
            assertThat(e.getReason()).isEqualTo("DisruptionBlocked");
            assertThat(old).contains(e.getInvolvedObject().getName());
            assertThat(e.getMessage()).contains("Drifted", "budget");
          });

      await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
        releaseStartupTaints(client, label);
        List<NodeClaim> claims = ProvisioningE2EIT.claimsOf(client, label);
        assertThat(old).as(() -> ClusterDump.of(client, ns.name())).isEmpty();
        assertThat(claims).hasSize(3);
        assertThat(client.pods().inNamespace(ns.name()).list().getItems()).hasSize(3).allSatisfy(p -> {
          assertThat(p.getStatus().getPhase()).isEqualTo("Running");
          assertThat(claims).anySatisfy(c -> assertThat(c.getStatus().nodeName()).isEqualTo(p.getSpec().getNodeName()));
        });
      });
      assertThat(driftedBy).as("why the old claims drifted").contains("NodeClassDrift");
      assertThat(most.get()).as("old claims under way at once, with a budget of one node").isEqualTo(1);
      assertThat(deletedBeforeItsReplacement).as("an old claim deleted before its replacement was made").isFalse();
      assertThat(dovetail.scrape())
          .containsPattern("karpenter_voluntary_disruption_decisions_total\\{consolidation_type=\"\",decision=\"replace\",reason=\"drifted\",?} 3\\.0");
    }
  }

  /**
   * The pod evictor's thresholds decide which nodes are under-used, end to end: a ClusterOrchestratorConfig
   * manages the pool (its label), two nodes each run one replica that asks for 47 % of the node's CPU, and
   * one node could hold both. At minimumCpu 30 neither node qualifies and both say why (Unconsolidatable);
   * with the threshold raised to 60 one node goes and both replicas run on the other.
   */
  @Test
  void theEvictorsThresholdsDecideWhichNodesAreUnderUsed(KubernetesClient client, TestNamespace ns) {
    NodePool pool = onDemandPool(client, "evict",
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_TYPE, "m5.large"));
    String label = pool.getMetadata().getName();
    pool.getMetadata().setLabels(Map.of(DovetailLabels.ORCHESTRATED, "true"));
    // Limits of its own: the config's default (twice the cluster's Ready capacity) would be a node or two on this small cluster.
    NodePoolSpec spec = pool.getSpec();
    pool.setSpec(new NodePoolSpec(spec.template(), spec.disruption(), Map.of("cpu", new Quantity("100")), spec.weight(), spec.replicas()));
    client.resources(NodePool.class).resource(pool).create();
    ClusterOrchestratorConfig config = OrchestratorConfigs.consolidation(new Consolidation(null, "WhenEmptyOrUnderutilized", "5s", null, null, null, new PodEvictor(true, false, 30, 30, null)));
    client.resource(config).create();
    await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> assertThat(
        client.resources(NodePool.class).withName(label).get().getSpec().disruption()).as("the config's settings on the pool")
        .satisfies(d -> assertThat(d.consolidateAfter()).isEqualTo("5s"))
        .satisfies(d -> assertThat(d.consolidationPolicy()).isEqualTo(Disruption.ConsolidationPolicy.WhenEmptyOrUnderutilized)));

    // One replica per node: the first node is cordoned while the second replica is placed, then uncordoned.
    client.apps().deployments().resource(Fixtures.deployment(ns.name(), "web", 1, "900m", "512Mi", label)).create();
    String first = await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).until(() -> running(client, ns).stream()
        .map(p -> p.getSpec().getNodeName()).findFirst().orElse(null), n -> n != null);
    cordon(client, first, true);
    client.apps().deployments().inNamespace(ns.name()).withName("web").scale(2);
    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> assertThat(running(client, ns))
        .as(() -> ClusterDump.of(client, ns.name())).hasSize(2).extracting(p -> p.getSpec().getNodeName()).doesNotHaveDuplicates());
    cordon(client, first, false);
    List<NodeClaim> claims = ProvisioningE2EIT.claimsOf(client, label);
    assertThat(claims).hasSize(2);

    // Above the threshold: consolidation weighs both nodes and leaves them, saying why.
    for (NodeClaim c : claims) {
      await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> assertThat(
          client.v1().events().inNamespace("default").withField("involvedObject.name", c.getMetadata().getName()).list().getItems())
          .anySatisfy(e -> {
            assertThat(e.getReason()).isEqualTo("Unconsolidatable");
            assertThat(e.getMessage()).contains("consolidates only below 30% CPU");
          }));
    }
    assertThat(ProvisioningE2EIT.claimsOf(client, label)).hasSize(2);

    client.resources(ClusterOrchestratorConfig.class).withName(ClusterOrchestratorConfig.NAME).patch(PatchContext.of(PatchType.JSON_MERGE),
        Serialization.asJson(Map.of("spec", Map.of("consolidation", Map.of("podEvictor", Map.of("minimumCpu", 60))))));
    await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
      List<NodeClaim> left = ProvisioningE2EIT.claimsOf(client, label);
      assertThat(left).as(() -> ClusterDump.of(client, ns.name())).singleElement();
      assertThat(running(client, ns)).hasSize(2).allSatisfy(p -> assertThat(p.getSpec().getNodeName()).isEqualTo(left.get(0).getStatus().nodeName()));
    });
    assertThat(claims).extracting(c -> c.getMetadata().getName()).contains(ProvisioningE2EIT.claimsOf(client, label).get(0).getMetadata().getName());
  }

  /**
   * A node whose networking breaks — the node monitoring agent's {@code NetworkingReady=False}, one of AWS's
   * repair policies, tolerated ten seconds here — is repaired although the pool's budget allows no voluntary
   * disruption: its claim is deleted, the ReplicaSet's new pod runs on a new node, and the four healthy nodes
   * (one unhealthy node in five is not more than a fifth) are left alone. (kwok keeps {@code Ready} True
   * whatever is written there; RepairApiTest covers {@code Ready=False} on a real API server.)
   */
  @Test
  void aNodeWhoseNetworkingBreaksIsRepairedAndItsPodRunsElsewhere(KubernetesClient client, TestNamespace ns) {
    NodePool pool = Fixtures.withDisruption(onDemandPool(client, "repair",
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_CPU, "2")),
        new Disruption("Never", Disruption.ConsolidationPolicy.WhenEmpty, List.of(Budget.nodes("0"))));
    String label = pool.getMetadata().getName();
    client.resources(NodePool.class).resource(pool).create();
    client.apps().deployments().resource(Fixtures.deployment(ns.name(), "web", 5, "1500m", "1Gi", label)).create();
    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> assertThat(running(client, ns))
        .as(() -> ClusterDump.of(client, ns.name())).hasSize(5));
    List<NodeClaim> claims = ProvisioningE2EIT.claimsOf(client, label);
    assertThat(claims).hasSize(5);
    String sick = running(client, ns).get(0).getSpec().getNodeName();
    String sickClaim = claims.stream().filter(c -> sick.equals(c.getStatus().nodeName())).findFirst().orElseThrow().getMetadata().getName();
    Set<String> healthy = new HashSet<>();
    claims.stream().map(c -> c.getMetadata().getName()).filter(n -> !n.equals(sickClaim)).forEach(healthy::add);

    String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    client.nodes().withName(sick).subresource("status").patch(PatchContext.of(PatchType.STRATEGIC_MERGE),
        Serialization.asJson(Map.of("status", Map.of("conditions", List.of(Map.of("type", NETWORKING_READY, "status", "False",
            "reason", "NetworkingBroken", "lastHeartbeatTime", now, "lastTransitionTime", now))))));
    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> assertThat(
        client.resources(NodeClaim.class).withName(sickClaim).get()).as(() -> ClusterDump.of(client, ns.name())).isNull());
    assertThat(Expect.event(client, "default", sickClaim, "NodeRepair").getMessage()).contains(NETWORKING_READY + "=False");
    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
      List<NodeClaim> current = ProvisioningE2EIT.claimsOf(client, label);
      assertThat(current).as(() -> ClusterDump.of(client, ns.name())).hasSize(5)
          .extracting(c -> c.getMetadata().getName()).containsAll(healthy);
      assertThat(running(client, ns)).hasSize(5).allSatisfy(p -> assertThat(current).anySatisfy(c -> assertThat(c.getStatus().nodeName())
          .isEqualTo(p.getSpec().getNodeName())));
    });
    assertThat(dovetail.scrape()).containsPattern("karpenter_nodeclaims_unhealthy_disrupted_total\\{[^}]*condition=\"" + NETWORKING_READY + "\"");
  }

  /** The namespace's pods that are Running and not being deleted. */
  private static List<Pod> running(KubernetesClient client, TestNamespace ns) {
    return client.pods().inNamespace(ns.name()).list().getItems().stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null && "Running".equals(p.getStatus().getPhase())).toList();
  }

  private static void cordon(KubernetesClient client, String node, boolean unschedulable) {
    client.nodes().withName(node).patch(PatchContext.of(PatchType.JSON_MERGE), Serialization.asJson(Map.of("spec", Map.of("unschedulable", unschedulable))));
  }

  /** How many single-node consolidations have replaced a node, from a scrape. */
  private static double singleReplacements(String scrape) {
    return PrometheusText.sum(PrometheusText.parse(scrape), "karpenter_voluntary_disruption_decisions_total",
        Map.of("consolidation_type", "single", "decision", "replace", "reason", "underutilized"));
  }

  private static final String STARTUP_TAINT = "dovetail.dev/e2e-startup";
  /** How many times drift has been weighed, from a scrape (0 before the first). */
  private static double driftEvaluations(String scrape) {
    return PrometheusText.sum(PrometheusText.parse(scrape), "karpenter_voluntary_disruption_decision_evaluation_duration_seconds_count",
        Map.of("consolidation_type", "", "reason", "drifted"));
  }

  /** Plays the agent that removes a startup taint once its node is set up: from every node of the pool that has it. */
  private static void releaseStartupTaints(KubernetesClient client, String label) {
    for (Node n : client.nodes().withLabel(Fixtures.TEST_LABEL, label).list().getItems()) {
      if (n.getSpec().getTaints() != null && n.getSpec().getTaints().stream().anyMatch(t -> STARTUP_TAINT.equals(t.getKey()))) {
        n.getSpec().setTaints(n.getSpec().getTaints().stream().filter(t -> !STARTUP_TAINT.equals(t.getKey())).toList());
        try {
          client.nodes().resource(n).update();  // with its resourceVersion: a conflict is retried on the next poll
        } catch (KubernetesClientException e) {
          if (e.getCode() != 409 && e.getCode() != 404) {
            throw e;
          }
        }
      }
    }
  }

  /**
   * A big pod (6 CPU) and then a small one (500m) in the pool of m5.large and m5.2xlarge: both run, on one
   * m5.2xlarge, whose NodeClaim this returns.
   */
  private static NodeClaim bigAndSmallOnOneNode(KubernetesClient client, TestNamespace ns, String label) {
    client.apps().deployments().resource(Fixtures.deployment(ns.name(), "big", 1, "6", "8Gi", label)).create();
    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> assertThat(
        client.pods().inNamespace(ns.name()).list().getItems()).as(() -> ClusterDump.of(client, ns.name()))
        .singleElement().satisfies(p -> assertThat(p.getStatus().getPhase()).isEqualTo("Running")));
    client.apps().deployments().resource(Fixtures.deployment(ns.name(), "small", 1, "500m", "512Mi", label)).create();
    await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> assertThat(
        client.pods().inNamespace(ns.name()).list().getItems()).as(() -> ClusterDump.of(client, ns.name()))
        .hasSize(2).allSatisfy(p -> assertThat(p.getStatus().getPhase()).isEqualTo("Running")));
    List<NodeClaim> before = ProvisioningE2EIT.claimsOf(client, label);
    assertThat(before).as("both pods on one m5.2xlarge").singleElement()
        .satisfies(c -> assertThat(c.getMetadata().getLabels()).containsEntry(WellKnownLabels.INSTANCE_TYPE, "m5.2xlarge"));
    return before.get(0);
  }

  /** What the pool's nodes cost an hour at catalog prices. */
  private static double cost(KubernetesClient client, String label) {
    Catalog catalog = Catalog.bundled();
    return client.nodes().withLabel(Fixtures.TEST_LABEL, label).list().getItems().stream().filter(n -> n.getMetadata().getDeletionTimestamp() == null)
        .mapToDouble(n -> {
          Map<String, String> l = n.getMetadata().getLabels();
          return catalog.get(l.get(WellKnownLabels.INSTANCE_TYPE)).orElseThrow()
              .pricePerHour(CapacityType.fromLabel(l.get(WellKnownLabels.CAPACITY_TYPE)).orElseThrow(), l.get(WellKnownLabels.ZONE));
        }).sum();
  }
}
