package dev.dovetail.provisioner.provisioning;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.harness.v1.WorkloadDistributionRule;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.testing.Expect;
import dev.dovetail.provisioner.testing.Kubelet;
import dev.dovetail.provisioner.testing.NodeClaims;
import dev.dovetail.provisioner.testing.NodeClasses;
import dev.dovetail.provisioner.testing.NodePools;
import dev.dovetail.provisioner.testing.Pods;
import dev.dovetail.provisioner.testing.Rules;
import dev.dovetail.provisioner.testing.TestOperator;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithApiServer;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Fallback to on-demand (F10) on a real API server: a replica its rule puts on spot, with every spot
 * offering out of capacity, gets on-demand capacity labelled as standing in for spot, with the reason on
 * the NodeClaim, Events and a metric; a replica that may run on-demand anyway gets plain on-demand.
 */
@WithApiServer
class FallbackApiTest {
  @RegisterExtension
  final TestOperator.PerTest operator = new TestOperator.PerTest();

  private static List<NodeClaim> claims(KubernetesClient client, String pool) {
    return client.resources(NodeClaim.class).withLabel(WellKnownLabels.NODEPOOL, pool).list().getItems();
  }

  @Test
  void aSpotReplicaWithEverySpotOfferingOutOfCapacityRunsOnOnDemandThatHoldsItsSpotPlace(KubernetesClient client, TestNamespace ns) {
    TestOperator provisioner = operator.start(client, o -> o.insufficientCapacity("*/*/spot"));
    WorkloadDistributionRule rule = Rules.create(client, ns.name(), 100);
    try {
      String pool = spotAndOnDemandPool(client);
      Pod pod = Kubelet.unschedulable(client, Pods.pod(Pods.in(ns.name()), Pods.requests("500m", "512Mi")));

      NodeClaim fallback = Expect.eventually("an on-demand NodeClaim in " + pool, () -> claims(client, pool).stream()
          .filter(c -> WellKnownLabels.ON_DEMAND.equals(c.getMetadata().getLabels().get(WellKnownLabels.CAPACITY_TYPE))).findFirst(),
          o -> o.isPresent()).orElseThrow();
      assertThat(fallback.getMetadata().getLabels()).containsEntry(DovetailLabels.CAPACITY_FALLBACK, "true");
      assertThat(fallback.getMetadata().getAnnotations().get(DovetailLabels.CAPACITY_FALLBACK_REASON))
          .startsWith("spot capacity could not hold 1 spot replicas").contains("offering");
      assertThat(Expect.launched(client, fallback.getMetadata().getName()).getMetadata().getLabels())
          .containsEntry(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.ON_DEMAND);
      assertThat(Expect.event(client, ns.name(), pod.getMetadata().getName(), "FallbackToOnDemand").getMessage())
          .contains("nodeclaim/" + fallback.getMetadata().getName());
      Expect.event(client, "default", fallback.getMetadata().getName(), "FallbackToOnDemand");
      assertThat(provisioner.registry().get("dovetail.capacity.fallback").tag("nodepool", pool).counter().count()).isEqualTo(1.0);
      assertThat(claims(client, pool)).as("no spot claim is left behind").allSatisfy(
          c -> assertThat(c.getMetadata().getLabels()).containsEntry(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.ON_DEMAND));
    } finally {
      client.resource(rule).delete();
    }
  }

  @Test
  void aReplicaItsRulePutsOnOnDemandGetsPlainOnDemand(KubernetesClient client, TestNamespace ns) {
    operator.start(client, o -> o.insufficientCapacity("*/*/spot"));
    WorkloadDistributionRule rule = Rules.create(client, ns.name(), 0);
    try {
      String pool = spotAndOnDemandPool(client);
      Kubelet.unschedulable(client, Pods.pod(Pods.in(ns.name()), Pods.requests("500m", "512Mi")));

      NodeClaim claim = Expect.eventually("a NodeClaim in " + pool, () -> claims(client, pool).stream().findFirst(), o -> o.isPresent())
          .orElseThrow();
      assertThat(claim.getMetadata().getLabels()).containsEntry(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.ON_DEMAND)
          .doesNotContainKey(DovetailLabels.CAPACITY_FALLBACK);
      assertThat(claim.getMetadata().getAnnotations()).doesNotContainKey(DovetailLabels.CAPACITY_FALLBACK_REASON);
    } finally {
      client.resource(rule).delete();
    }
  }

  @Test
  void anOnDemandReplicaIsNeverPlannedOnCapacityStandingInForSpot(KubernetesClient client, TestNamespace ns) {
    operator.start(client);
    WorkloadDistributionRule rule = Rules.create(client, ns.name(), 0);
    try {
      String pool = spotAndOnDemandPool(client);
      // A fallback node with room to spare: for the extender it holds spot places, so an on-demand replica may not go there.
      NodeClaim standIn = client.resource(NodeClaims.nodeClaim(c -> c.nodePool(pool),
          c -> c.nodeClass(client.resources(NodePool.class).withName(pool).get().getSpec().template().spec().nodeClassRef().name()),
          c -> c.label(DovetailLabels.CAPACITY_FALLBACK, "true"),
          c -> c.requirements(NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_TYPE, "m5.xlarge"),
              NodeSelectorRequirementWithMinValues.in(WellKnownLabels.ZONE, "us-east-1a"),
              NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.ON_DEMAND)))).create();
      String standInNode = Kubelet.join(client, standIn.getMetadata().getName());
      Pod pod = Kubelet.unschedulable(client, Pods.pod(Pods.in(ns.name()), Pods.requests("500m", "512Mi")));

      Event nominated = Expect.event(client, ns.name(), pod.getMetadata().getName(), "Nominated");
      assertThat(nominated.getMessage()).as("planned elsewhere").doesNotContain(standIn.getMetadata().getName()).doesNotContain(standInNode);
      NodeClaim claim = Expect.eventually("a NodeClaim of its own", () -> claims(client, pool).stream()
          .filter(c -> !c.getMetadata().getName().equals(standIn.getMetadata().getName())).findFirst(), o -> o.isPresent()).orElseThrow();
      assertThat(nominated.getMessage()).endsWith("nodeclaim/" + claim.getMetadata().getName());
      assertThat(claim.getMetadata().getLabels()).containsEntry(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.ON_DEMAND)
          .doesNotContainKey(DovetailLabels.CAPACITY_FALLBACK);
    } finally {
      client.resource(rule).delete();
    }
  }

  /** A pool of m5.large and m5.xlarge in one zone, spot and on-demand. */
  static String spotAndOnDemandPool(KubernetesClient client) {
    EC2NodeClass nodeClass = Expect.readyNodeClass(client, NodeClasses.nodeClass());
    return client.resource(NodePools.nodePool(p -> p.nodeClass(nodeClass.getMetadata().getName()),
        p -> p.requirements(NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_TYPE, "m5.large", "m5.xlarge"),
            NodeSelectorRequirementWithMinValues.in(WellKnownLabels.ZONE, "us-east-1a"),
            NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.SPOT, WellKnownLabels.ON_DEMAND))))
        .create().getMetadata().getName();
  }
}
