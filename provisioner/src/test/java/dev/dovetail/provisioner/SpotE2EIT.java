package dev.dovetail.provisioner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfig;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfigSpec;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfigStatus;
import dev.dovetail.api.config.v1alpha1.CommitmentIntegration;
import dev.dovetail.api.config.v1alpha1.Consolidation;
import dev.dovetail.api.config.v1alpha1.PodEvictor;
import dev.dovetail.api.config.v1alpha1.ReplacementWindow;
import dev.dovetail.api.config.v1alpha1.ReservedInstance;
import dev.dovetail.api.config.v1alpha1.ReverseFallback;
import dev.dovetail.api.harness.v1.Distribution;
import dev.dovetail.api.harness.v1.WorkloadDistributionRule;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.cloud.sim.SimFaults;
import dev.dovetail.provisioner.cluster.Caches;
import dev.dovetail.provisioner.testing.OrchestratorConfigs;
import dev.dovetail.provisioner.testing.Rules;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithCluster;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Spot orchestration on the real control plane (kube-scheduler calling the extender, the controller
 * manager, kwok nodes, the sim cloud whose capacity faults a ConfigMap switches): replicas their rule puts
 * on spot fall back to on-demand when spot runs out, and reverse fallback brings them back once it is
 * back, only inside its replacement window and never below the workload's PodDisruptionBudget.
 */
@WithCluster(schedulerConfig = "manifests/scheduler/local-extender.yaml")
class SpotE2EIT {
  private static final String FAULTS = "dovetail-sim-faults-spot-e2e";
  private static InProcess dovetail;
  private String label;

  @BeforeAll
  static void start(KubernetesClient client) throws Exception {
    client.configMaps().inNamespace("kube-system").withName(FAULTS).delete();
    // An offering out of capacity stays out of simulations 10 s (Karpenter keeps it 3 minutes).
    dovetail = InProcess.start(client, Fixtures.settings("spot-e2e", false).withSimConfigMap("kube-system/" + FAULTS)
        .withUnavailableOfferingsTtl(Duration.ofSeconds(10)));
  }

  @AfterEach
  void removeWhatTheTestMade(KubernetesClient client, TestNamespace ns) {
    client.apps().deployments().inNamespace(ns.name()).delete();
    client.policy().v1().podDisruptionBudget().inNamespace(ns.name()).delete();
    client.pods().inNamespace(ns.name()).withGracePeriod(0).delete();
    client.resources(WorkloadDistributionRule.class).withName(ns.name()).delete();
    client.resources(ClusterOrchestratorConfig.class).withName(ClusterOrchestratorConfig.NAME).delete();
    faults(client, "");
    if (label != null) {
      client.resources(NodePool.class).withName(label).delete();
      client.resources(NodeClaim.class).withLabel(WellKnownLabels.NODEPOOL, label).delete();
      await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
          .untilAsserted(() -> assertThat(ProvisioningE2EIT.claimsOf(client, label)).isEmpty());
      client.resources(EC2NodeClass.class).withName(label).delete();
    }
  }

  @AfterAll
  static void stop(KubernetesClient client) throws Exception {
    client.configMaps().inNamespace("kube-system").withName(FAULTS).delete();
    if (dovetail != null) {
      dovetail.close();
    }
  }

  /** Sets the simulated cloud's offerings without capacity ({@link SimFaults#patterns}). */
  private static void faults(KubernetesClient client, String insufficientCapacity) {
    client.configMaps().inNamespace("kube-system").resource(new ConfigMapBuilder().withNewMetadata().withName(FAULTS).withNamespace("kube-system")
        .endMetadata().addToData("insufficientCapacity", insufficientCapacity).build()).serverSideApply();
  }

  /**
   * A pool of one two-CPU instance type in one zone, spot or on-demand, whose nodes carry {@code label}. Each
   * test takes a type of its own: an offering one test ran out of stays out of the next test's simulations
   * for the cache's ten seconds.
   */
  private NodePool spotAndOnDemandPool(KubernetesClient client, String prefix, String instanceType) {
    label = Fixtures.unique(prefix);
    client.resources(EC2NodeClass.class).resource(Fixtures.nodeClass(label)).create();
    return client.resources(NodePool.class).resource(Fixtures.nodePool(label, label, label, null, null,
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_TYPE, instanceType),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.ZONE, "us-east-1a"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.SPOT, WellKnownLabels.ON_DEMAND))).create();
  }

  private static ClusterOrchestratorConfig reverseFallbackEvery(String interval, ReplacementWindow window) {
    return OrchestratorConfigs.of(new ClusterOrchestratorConfigSpec(null, null, new ReverseFallback(true, interval), null, null, window));
  }

  /** The nodes the namespace's pods are on, once every pod is bound to a node that exists (an assertion until then). */
  private static List<Node> nodesOfPods(KubernetesClient client, String namespace) {
    List<Node> out = new ArrayList<>();
    for (Pod p : client.pods().inNamespace(namespace).list().getItems()) {
      assertThat(p.getSpec().getNodeName()).as("pod %s bound", p.getMetadata().getName()).isNotNull();
      Node n = client.nodes().withName(p.getSpec().getNodeName()).get();
      assertThat(n).as("node %s of pod %s", p.getSpec().getNodeName(), p.getMetadata().getName()).isNotNull();
      if (out.stream().noneMatch(x -> x.getMetadata().getName().equals(n.getMetadata().getName()))) {
        out.add(n);
      }
    }
    return out;
  }

  /**
   * Four replicas all on spot by their rule, with every spot offering out of capacity: they run on
   * on-demand nodes labelled as fallback, the rule's status counts them as fallback, and each says why.
   * Spot comes back while the replacement window keeps reverse fallback closed: nothing moves, and the
   * fallback nodes say why. The window opens: the replicas end on spot, the fallback nodes gone, and
   * never more than one replica at a time was unavailable (the PodDisruptionBudget's maxUnavailable).
   */
  @Test
  void replicasFallBackWhileSpotIsOutAndReturnInTheWindowWithinTheirBudget(KubernetesClient client, TestNamespace ns) {
    faults(client, "*/*/spot");
    spotAndOnDemandPool(client, "fallback", "m5.large");
    Rules.create(client, ns.name(), 100);
    ReplacementWindow closed = new ReplacementWindow("Never", new ReplacementWindow.AppliesTo(false, false, true), null);
    client.resource(reverseFallbackEvery("20s", closed)).create();
    client.policy().v1().podDisruptionBudget().resource(new PodDisruptionBudgetBuilder().withNewMetadata().withName("web")
        .withNamespace(ns.name()).endMetadata().withNewSpec().withMaxUnavailable(new IntOrString(1)).withNewSelector()
        .addToMatchLabels("app", "web").endSelector().endSpec().build()).create();
    client.apps().deployments().resource(Fixtures.deployment(ns.name(), "web", 4, "500m", "512Mi", label)).create();

    await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
      assertThat(client.pods().inNamespace(ns.name()).list().getItems()).as(() -> ClusterDump.of(client, ns.name())).hasSize(4)
          .allSatisfy(p -> assertThat(p.getStatus().getPhase()).isEqualTo("Running"));
      assertThat(nodesOfPods(client, ns.name())).allSatisfy(n -> assertThat(n.getMetadata().getLabels())
          .containsEntry(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.ON_DEMAND).containsEntry(DovetailLabels.CAPACITY_FALLBACK, "true"));
    });
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> assertThat(
        client.resources(WorkloadDistributionRule.class).withName(ns.name()).get().getStatus()).isNotNull()
        .satisfies(status -> assertThat(status.replicas()).isNotNull().extracting(r -> r.fallback()).isEqualTo(4)));
    List<Event> podEvents = client.v1().events().inNamespace(ns.name()).list().getItems();
    assertThat(podEvents).filteredOn(e -> "FallbackToOnDemand".equals(e.getReason())).isNotEmpty()
        .allSatisfy(e -> assertThat(e.getMessage()).startsWith("Spot capacity unavailable, running on on-demand nodeclaim/"));
    List<String> fallbackClaims = ProvisioningE2EIT.claimsOf(client, label).stream().map(c -> c.getMetadata().getName()).toList();

    faults(client, "");
    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> assertThat(
        client.v1().events().inNamespace("default").list().getItems()).as("a fallback node says reverse fallback waits for its window")
        .anyMatch(e -> fallbackClaims.contains(e.getInvolvedObject().getName()) && "DisruptionBlocked".equals(e.getReason())
            && e.getMessage().contains("window")));
    assertThat(ProvisioningE2EIT.claimsOf(client, label)).as("nothing moved outside the window")
        .allSatisfy(c -> assertThat(c.getMetadata().getLabels()).containsEntry(DovetailLabels.CAPACITY_FALLBACK, "true"));

    try (ReadyWatch watch = new ReadyWatch(client, ns.name())) {
      watch.settled(4);
      client.resource(reverseFallbackEvery("20s", new ReplacementWindow("Always", null, null))).update();

      await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
        assertThat(client.pods().inNamespace(ns.name()).list().getItems()).as(() -> ClusterDump.of(client, ns.name())).hasSize(4)
            .allSatisfy(p -> assertThat(p.getStatus().getPhase()).isEqualTo("Running"));
        assertThat(nodesOfPods(client, ns.name())).allSatisfy(n -> assertThat(n.getMetadata().getLabels())
            .containsEntry(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.SPOT).doesNotContainKey(DovetailLabels.CAPACITY_FALLBACK));
        assertThat(ProvisioningE2EIT.claimsOf(client, label)).as("the fallback nodes are gone")
            .noneMatch(c -> fallbackClaims.contains(c.getMetadata().getName()));
      });
      assertThat(watch.fewest()).as("ready replicas never below the budget's maxUnavailable of one").isGreaterThanOrEqualTo(3);
    }
    assertThat(dovetail.scrape()).containsPattern("dovetail_reverse_fallback_total\\{nodepool=\"" + label + "\",result=\"succeeded\"} [1-9]")
        .containsPattern("dovetail_capacity_fallback_total\\{nodepool=\"" + label + "\"} [1-9]");
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> assertThat(
        client.resources(WorkloadDistributionRule.class).withName(ns.name()).get().getStatus()).isNotNull()
        .satisfies(status -> assertThat(status.replicas()).isNotNull().extracting(r -> r.spot()).isEqualTo(4)));
  }

  /**
   * Two replicas on two fallback nodes while spot capacity flaps (out, back, out, every four seconds, for a
   * minute): reverse fallback (every 15 s) moves each fallback node back to spot once, and nothing falls back
   * again; an attempt whose spot replacement hits the shortage fails, and the pool's next attempt waits out its
   * back-off (a minute after the first failure, doubling, at most the interval: 15 s here) — no burst of
   * launches, no node going back and forth.
   */
  @Test
  void aFlappingSpotShortageMovesEachFallbackNodeBackOnceAndBacksOffBetweenFailedAttempts(KubernetesClient client, TestNamespace ns)
      throws Exception {
    faults(client, "*/*/spot");
    spotAndOnDemandPool(client, "flap", "c5.large");
    Rules.create(client, ns.name(), 100);
    client.resource(reverseFallbackEvery("15s", null)).create();
    client.apps().deployments().resource(Fixtures.deployment(ns.name(), "web", 2, "1500m", "1Gi", label)).create();
    await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
      assertThat(client.pods().inNamespace(ns.name()).list().getItems()).as(() -> ClusterDump.of(client, ns.name())).hasSize(2)
          .allSatisfy(p -> assertThat(p.getStatus().getPhase()).isEqualTo("Running"));
      assertThat(nodesOfPods(client, ns.name())).hasSize(2)
          .allSatisfy(n -> assertThat(n.getMetadata().getLabels()).containsEntry(DovetailLabels.CAPACITY_FALLBACK, "true"));
    });
    List<String> fallbackClaims = ProvisioningE2EIT.claimsOf(client, label).stream().map(c -> c.getMetadata().getName()).toList();

    // Every claim made from here on, its capacity type, and whether it ever got a node.
    Map<String, NodeClaim> made = new ConcurrentHashMap<>();
    Set<String> gotNodes = ConcurrentHashMap.newKeySet();
    ScheduledExecutorService flapper = Executors.newSingleThreadScheduledExecutor();
    try (SharedIndexInformer<NodeClaim> watch = client.resources(NodeClaim.class).withLabel(WellKnownLabels.NODEPOOL, label)
        .inform(Caches.handler(claim -> {
          if (!fallbackClaims.contains(claim.getMetadata().getName())) {
            made.putIfAbsent(claim.getMetadata().getName(), claim);
            if (claim.getStatus() != null && claim.getStatus().nodeName() != null) {
              gotNodes.add(claim.getMetadata().getName());
            }
          }
        }, (claim, unknown) -> { }))) {
      AtomicInteger flips = new AtomicInteger();
      flapper.scheduleAtFixedRate(() -> faults(client, flips.incrementAndGet() % 2 == 1 ? "" : "*/*/spot"), 0, 4, TimeUnit.SECONDS);
      await().atMost(Duration.ofMinutes(2)).until(() -> flips.get() >= 15);
      flapper.shutdownNow();
      flapper.awaitTermination(10, TimeUnit.SECONDS);
      faults(client, "");

      await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
        assertThat(client.pods().inNamespace(ns.name()).list().getItems()).as(() -> ClusterDump.of(client, ns.name())).hasSize(2)
            .allSatisfy(p -> assertThat(p.getStatus().getPhase()).isEqualTo("Running"));
        assertThat(nodesOfPods(client, ns.name())).allSatisfy(n -> assertThat(n.getMetadata().getLabels())
            .containsEntry(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.SPOT));
        assertThat(ProvisioningE2EIT.claimsOf(client, label)).noneMatch(c -> fallbackClaims.contains(c.getMetadata().getName()));
      });
    } finally {
      flapper.shutdownNow();
    }
    assertThat(made.values()).as("nothing fell back again").allSatisfy(c -> assertThat(c.getMetadata().getLabels())
        .containsEntry(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.SPOT));
    assertThat(gotNodes).as("each fallback node went back to spot once").hasSize(2);
    List<Instant> failed = made.values().stream().filter(c -> !gotNodes.contains(c.getMetadata().getName()))
        .map(c -> Instant.parse(c.getMetadata().getCreationTimestamp())).sorted().toList();
    // Creation times are whole seconds: 14 s apart at least is the 15-s back-off.
    for (int i = 1; i < failed.size(); i++) {
      assertThat(Duration.between(failed.get(i - 1), failed.get(i))).as("failed attempts %s: the pool backs off after each", failed)
          .isGreaterThanOrEqualTo(Duration.ofSeconds(14));
    }
    assertThat(failed).as("failed attempts in a minute of flapping, one per back-off at most").hasSizeLessThanOrEqualTo(5);
    assertThat(dovetail.scrape()).containsPattern("dovetail_reverse_fallback_total\\{nodepool=\"" + label + "\",result=\"succeeded\"} 2");
  }

  /**
   * A rule of 70 % spot over ten running replicas changes to 30 %: with the pod evictor on, robust
   * distribution evicts replicas from spot one at a time (an Event on the rule for each) until the split
   * is 3 spot / 7 on-demand, never more than one replica unavailable (the PodDisruptionBudget).
   */
  @Test
  void aRuleChangedFromSeventyToThirtyPercentSpotMovesRunningReplicasUntilTheSplitFollows(KubernetesClient client, TestNamespace ns) {
    spotAndOnDemandPool(client, "robust", "m6i.large");
    Rules.create(client, ns.name(), 70);
    client.resource(OrchestratorConfigs.consolidation(new Consolidation(null, null, null, null, null, null,
        new PodEvictor(true, false, 30, 30, null)))).create();
    client.policy().v1().podDisruptionBudget().resource(new PodDisruptionBudgetBuilder().withNewMetadata().withName("web")
        .withNamespace(ns.name()).endMetadata().withNewSpec().withMaxUnavailable(new IntOrString(1)).withNewSelector()
        .addToMatchLabels("app", "web").endSelector().endSpec().build()).create();
    client.apps().deployments().resource(Fixtures.deployment(ns.name(), "web", 10, "250m", "256Mi", label)).create();
    await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> assertThat(split(client, ns.name()))
        .as(() -> ClusterDump.of(client, ns.name())).containsExactly(7, 3));

    try (ReadyWatch watch = new ReadyWatch(client, ns.name())) {
      watch.settled(10);
      client.resources(WorkloadDistributionRule.class).withName(ns.name()).edit(r -> {
        r.setSpec(new WorkloadDistributionRuleSpec(r.getSpec().namespace(), new Distribution(30, 70), r.getSpec().selector(),
            r.getSpec().baseOnDemandCapacity(), r.getSpec().strategy()));
        return r;
      });
      await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> assertThat(split(client, ns.name()))
          .as(() -> ClusterDump.of(client, ns.name())).containsExactly(3, 7));
      assertThat(watch.fewest()).as("ready replicas never below the budget's maxUnavailable of one").isGreaterThanOrEqualTo(9);
    }
    assertThat(client.v1().events().inNamespace("default").list().getItems())
        .filteredOn(e -> ns.name().equals(e.getInvolvedObject().getName()) && "Rebalanced".equals(e.getReason())).isNotEmpty()
        .allSatisfy(e -> assertThat(e.getMessage()).contains("rule " + ns.name() + " wants 3 spot / 7 on-demand of 10"));
  }

  /**
   * Reserved Instances for four m5.xlarge (the sim provider's inventory, in the ClusterOrchestratorConfig):
   * six replicas that each need a whole m5.xlarge run on the four reserved on-demand nodes first and on spot
   * after; scaled to eight, still no fifth on-demand node. The config's status counts four of four in use.
   */
  @Test
  void aCommitmentForFourM5XlargeIsUsedBeforeSpotAndNeverExceeded(KubernetesClient client, TestNamespace ns) {
    label = Fixtures.unique("ri");
    client.resources(EC2NodeClass.class).resource(Fixtures.nodeClass(label)).create();
    client.resources(NodePool.class).resource(Fixtures.nodePool(label, label, label, null, null,
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_TYPE, "m5.xlarge"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.ZONE, "us-east-1a"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.SPOT, WellKnownLabels.ON_DEMAND))).create();
    client.resource(OrchestratorConfigs.of(new ClusterOrchestratorConfigSpec(null, new CommitmentIntegration(true, "123456789012",
        List.of(new ReservedInstance("m5.xlarge", "us-east-1a", 4))), null, null, null, null))).create();
    client.apps().deployments().resource(Fixtures.deployment(ns.name(), "web", 6, "3", "4Gi", label)).create();
    await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> assertThat(capacityTypes(client, ns.name(), 6))
        .as(() -> ClusterDump.of(client, ns.name())).containsExactlyInAnyOrderEntriesOf(Map.of(WellKnownLabels.ON_DEMAND, 4, WellKnownLabels.SPOT, 2)));

    client.apps().deployments().inNamespace(ns.name()).withName("web").scale(8);
    await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> assertThat(capacityTypes(client, ns.name(), 8))
        .as(() -> ClusterDump.of(client, ns.name())).containsExactlyInAnyOrderEntriesOf(Map.of(WellKnownLabels.ON_DEMAND, 4, WellKnownLabels.SPOT, 4)));
    await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> assertThat(client
        .resources(ClusterOrchestratorConfig.class).withName(ClusterOrchestratorConfig.NAME).get().getStatus()).isNotNull()
        .satisfies(status -> assertThat(status.commitments())
            .containsExactly(new ClusterOrchestratorConfigStatus.CommitmentUse("m5.xlarge", "us-east-1a", 4, 4))));
    assertThat(dovetail.scrape()).contains("dovetail_commitment_utilization_ratio{instance_type=\"m5.xlarge\",zone=\"us-east-1a\"} 1.0");
  }

  @Test
  void aManagedPoolWithoutLimitsGetsTwiceTheClustersCapacityAndAnExplicitLimitWins(KubernetesClient client, TestNamespace ns) {
    label = Fixtures.unique("limits");
    client.resources(EC2NodeClass.class).resource(Fixtures.nodeClass(label)).create();
    NodePool managed = Fixtures.nodePool(label, label, label, null, null,
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_TYPE, "c5.large"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.ZONE, "us-east-1a"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.ON_DEMAND));
    managed.getMetadata().setLabels(Map.of(DovetailLabels.ORCHESTRATED, "true"));
    client.resources(NodePool.class).resource(managed).create();
    // A managed pool with limits of its own (and no nodes): they stay as they are.
    String explicit = label + "-own";
    NodePool own = Fixtures.nodePool(explicit, label, explicit, Map.of("cpu", new Quantity("1000")), null,
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_TYPE, "c5.large"));
    own.getMetadata().setLabels(Map.of(DovetailLabels.ORCHESTRATED, "true"));
    client.resources(NodePool.class).resource(own).create();
    try {
      client.resource(OrchestratorConfigs.of(new ClusterOrchestratorConfigSpec(null, null, null, null, null, null))).create();
      client.apps().deployments().resource(Fixtures.deployment(ns.name(), "web", 5, "500m", "512Mi", label)).create();
      await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
        assertThat(client.pods().inNamespace(ns.name()).list().getItems()).hasSize(5)
            .allSatisfy(p -> assertThat(p.getStatus().getPhase()).isEqualTo("Running"));
        // Twice the Ready nodes' allocatable CPU (whole cores, rounded up) and memory (whole GiB, rounded up).
        long cpuMillis = 0;
        long memoryBytes = 0;
        for (Node n : client.nodes().list().getItems()) {
          boolean ready = n.getStatus().getConditions().stream().anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
          if (ready) {
            cpuMillis += Quantity.getAmountInBytes(n.getStatus().getAllocatable().get("cpu")).movePointRight(3).longValue();
            memoryBytes += Quantity.getAmountInBytes(n.getStatus().getAllocatable().get("memory")).longValue();
          }
        }
        assertThat(cpuMillis).as("Ready capacity").isPositive();
        String cpu = Long.toString(Math.floorDiv(2 * cpuMillis + 999, 1000));
        String memory = Long.toString(Math.floorDiv(2 * memoryBytes + (1L << 30) - 1, 1L << 30)) + "Gi";
        NodePool pool = client.resources(NodePool.class).withName(label).get();
        assertThat(pool.getSpec().limits()).as(() -> ClusterDump.of(client, ns.name()))
            .containsEntry("cpu", new Quantity(cpu)).containsEntry("memory", new Quantity(memory));
        assertThat(pool.getMetadata().getAnnotations()).containsEntry(DovetailLabels.DEFAULT_LIMITS, "cpu=" + cpu + ",memory=" + memory);
      });
      NodePool kept = client.resources(NodePool.class).withName(explicit).get();
      assertThat(kept.getSpec().limits()).containsExactly(Map.entry("cpu", new Quantity("1000")));
      assertThat(kept.getMetadata().getAnnotations() == null ? Map.of() : kept.getMetadata().getAnnotations())
          .doesNotContainKey(DovetailLabels.DEFAULT_LIMITS);
    } finally {
      client.resources(NodePool.class).withName(explicit).delete();
    }
  }

  /** Once all {@code count} pods of the namespace run: how many run on each capacity type. */
  private static Map<String, Integer> capacityTypes(KubernetesClient client, String namespace, int count) {
    // One read: a second list could hold a replacement created since, not bound yet (no node to look up).
    List<Pod> pods = client.pods().inNamespace(namespace).list().getItems();
    assertThat(pods).hasSize(count).allSatisfy(p -> assertThat(p.getStatus().getPhase()).isEqualTo("Running"));
    Map<String, Integer> out = new TreeMap<>();
    for (Pod p : pods) {
      Node n = client.nodes().withName(p.getSpec().getNodeName()).get();
      assertThat(n).as("node of %s", p.getMetadata().getName()).isNotNull();
      out.merge(n.getMetadata().getLabels().get(WellKnownLabels.CAPACITY_TYPE), 1, Integer::sum);
    }
    return out;
  }

  /** The namespace's Running pods on spot and on on-demand nodes, once all ten run: [spot, on-demand]. */
  private static List<Integer> split(KubernetesClient client, String namespace) {
    Map<String, Integer> types = capacityTypes(client, namespace, 10);
    return List.of(types.getOrDefault(WellKnownLabels.SPOT, 0), types.getOrDefault(WellKnownLabels.ON_DEMAND, 0));
  }

  /** Watches a namespace's pods and keeps the fewest Ready at once since {@link #settled}. */
  static final class ReadyWatch implements AutoCloseable {
    private final Set<String> ready = ConcurrentHashMap.newKeySet();
    private final AtomicInteger fewest = new AtomicInteger(Integer.MAX_VALUE);
    private final SharedIndexInformer<Pod> informer;

    ReadyWatch(KubernetesClient client, String namespace) {
      informer = client.pods().inNamespace(namespace).inform(Caches.handler(pod -> {
        boolean isReady = pod.getMetadata().getDeletionTimestamp() == null && pod.getStatus() != null && pod.getStatus().getConditions() != null
            && pod.getStatus().getConditions().stream().anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
        update(pod.getMetadata().getName(), isReady);
      }, (pod, unknown) -> update(pod.getMetadata().getName(), false)));
    }

    private void update(String pod, boolean isReady) {
      synchronized (ready) {
        if (isReady) {
          ready.add(pod);
        } else {
          ready.remove(pod);
        }
        fewest.accumulateAndGet(ready.size(), Math::min);
      }
    }

    /** Waits for {@code count} Ready pods, then counts the fewest from there. */
    void settled(int count) {
      await().atMost(Duration.ofSeconds(30)).until(() -> ready.size() == count);
      fewest.set(count);
    }

    int fewest() {
      return fewest.get();
    }

    @Override
    public void close() {
      informer.close();
    }
  }
}
