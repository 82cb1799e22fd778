package dev.dovetail.provisioner.termination;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.disruption.Drain;
import dev.dovetail.api.disruption.DrainPod;
import dev.dovetail.api.interruption.NodeMarks;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.WellKnownTaints;
import dev.dovetail.provisioner.cloud.CloudProviderException;
import dev.dovetail.provisioner.testing.Expect;
import dev.dovetail.provisioner.testing.Kubelet;
import dev.dovetail.provisioner.testing.NodeClaims;
import dev.dovetail.provisioner.testing.NodeClasses;
import dev.dovetail.provisioner.testing.Pdbs;
import dev.dovetail.provisioner.testing.Pods;
import dev.dovetail.provisioner.testing.TestOperator;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithApiServer;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Deleting a NodeClaim on a real API server: the node is tainted, its pods are evicted through the
 * Eviction API (the API server enforces the PodDisruptionBudget; the test writes the budget's status
 * as the disruption controller would), pods that must not be disrupted are waited for, then the instance
 * is terminated, the Node deleted and both finalizers removed. The test plays the kubelet: it binds and
 * runs the pods, and finishes the termination of those evicted.
 */
@WithApiServer
class TerminationApiTest {
  @RegisterExtension
  final TestOperator.PerTest operator = new TestOperator.PerTest();
  private TestOperator provisioner;

  @Test
  void drainEvictsThroughTheEvictionApiAndWaitsWhileADisruptionBudgetRefuses(KubernetesClient client, TestNamespace ns) {
    provisioner = operator.start(client);
    EC2NodeClass nodeClass = Expect.readyNodeClass(client, NodeClasses.nodeClass());
    NodeClaim claim = client.resource(NodeClaims.nodeClaim(c -> c.nodeClass(nodeClass.getMetadata().getName()))).create();
    String name = claim.getMetadata().getName();
    String node = Kubelet.join(client, name);
    String providerId = client.resources(NodeClaim.class).withName(name).get().getStatus().providerID();
    Pod guarded = Kubelet.runOn(client, Pods.pod(Pods.in(ns.name()), Pods.label("app", "guarded")), node);
    Pod free = Kubelet.runOn(client, Pods.pod(Pods.in(ns.name()), Pods.label("app", "free")), node);
    PodDisruptionBudget pdb = client.resource(Pdbs.pdb(Pdbs.in(ns.name()), Pdbs.selecting("app", "guarded"))).create();
    Pdbs.allow(client, pdb, 1, 0);

    client.resources(NodeClaim.class).withName(name).delete();

    NodeClaim blocked = Expect.condition(client, name, ConditionTypes.DRAINED, Condition.Status.False, "PodsBlockedByDisruptionBudget");
    assertThat(blocked.getMetadata().getFinalizers()).as("held until drained").isNotEmpty();
    assertThat(pod(client, guarded).getMetadata().getDeletionTimestamp()).as("the budget refused its eviction").isNull();
    Node tainted = client.nodes().withName(node).get();
    assertThat(tainted.getSpec().getTaints()).anySatisfy(t -> {
      assertThat(t.getKey()).isEqualTo(WellKnownTaints.DISRUPTED);
      assertThat(t.getEffect()).isEqualTo("NoSchedule");
    });
    Event failed = Expect.event(client, "default", name, "FailedDraining");
    assertThat(failed.getType()).isEqualTo("Warning");
    assertThat(failed.getMessage()).contains(node);
    // The pod without a budget was evicted meanwhile; its kubelet stops it.
    Expect.eventually("pod " + free.getMetadata().getName() + " evicted", () -> pod(client, free),
        p -> p.getMetadata().getDeletionTimestamp() != null);
    assertThat(Expect.event(client, ns.name(), free.getMetadata().getName(), "Evicted").getType()).isEqualTo("Normal");
    Kubelet.finishTermination(client, free);
    assertThat(client.nodes().withName(node).get()).as("the node stays while a pod is left").isNotNull();

    Pdbs.allow(client, pdb, 1, 1);
    Expect.eventually("pod " + guarded.getMetadata().getName() + " evicted", () -> pod(client, guarded),
        p -> p.getMetadata().getDeletionTimestamp() != null);
    Kubelet.finishTermination(client, guarded);

    Expect.gone(client, Node.class, node);
    Expect.gone(client, NodeClaim.class, name);
    assertThatThrownBy(() -> provisioner.cloud().get(providerId).toCompletableFuture().join()).isInstanceOf(CompletionException.class)
        .hasCauseInstanceOf(CloudProviderException.NotFound.class);
  }

  @Test
  void drainWaitsForPodsThatMustNotBeDisruptedUntilTheyGo(KubernetesClient client, TestNamespace ns) {
    provisioner = operator.start(client);
    EC2NodeClass nodeClass = Expect.readyNodeClass(client, NodeClasses.nodeClass());
    NodeClaim claim = client.resource(NodeClaims.nodeClaim(c -> c.nodeClass(nodeClass.getMetadata().getName()))).create();
    String name = claim.getMetadata().getName();
    String node = Kubelet.join(client, name);
    Pod batch = Kubelet.runOn(client, Pods.pod(Pods.in(ns.name()), Pods.annotation(Drain.DO_NOT_DISRUPT, "true")), node);

    client.resources(NodeClaim.class).withName(name).delete();

    Expect.condition(client, name, ConditionTypes.DRAINED, Condition.Status.False, "PodsNotDisruptable");
    assertThat(Expect.event(client, "default", name, "FailedDraining").getMessage()).contains(batch.getMetadata().getName());
    assertThat(pod(client, batch).getMetadata().getDeletionTimestamp()).as("not evicted").isNull();
    assertThat(client.nodes().withName(node).get()).isNotNull();

    // The job finishes: its pod goes, and the node with it.
    client.pods().resource(batch).withGracePeriod(0).delete();
    Expect.gone(client, Node.class, node);
    Expect.gone(client, NodeClaim.class, name);
  }

  @Test
  void aNodeDeletedBySomeoneTerminatesItsClaim(KubernetesClient client) {
    provisioner = operator.start(client);
    EC2NodeClass nodeClass = Expect.readyNodeClass(client, NodeClasses.nodeClass());
    NodeClaim claim = client.resource(NodeClaims.nodeClaim(c -> c.nodeClass(nodeClass.getMetadata().getName()))).create();
    String name = claim.getMetadata().getName();
    String node = Kubelet.join(client, name);
    String providerId = client.resources(NodeClaim.class).withName(name).get().getStatus().providerID();

    client.nodes().withName(node).delete();

    Expect.gone(client, NodeClaim.class, name);
    Expect.gone(client, Node.class, node);
    assertThatThrownBy(() -> provisioner.cloud().get(providerId).toCompletableFuture().join()).isInstanceOf(CompletionException.class)
        .hasCauseInstanceOf(CloudProviderException.NotFound.class);
  }

  @Test
  void aSpotReclaimedClaimsPodsKeepRunningUntilTheirReplacementIsReady(KubernetesClient client, TestNamespace ns) {
    NodeClaim claim = claimRunningWeb(client, ns);
    String name = claim.getMetadata().getName();
    Pod web = client.pods().inNamespace(ns.name()).withLabel("app", "web").list().getItems().get(0);
    // Reclaimed in ten minutes: the latest start is far off, so only the replacement ends the hold.
    annotate(client, name, DovetailLabels.INTERRUPTION, NodeMarks.notice(NodeMarks.SPOT_INTERRUPTION, Instant.now().plus(Duration.ofMinutes(10))));

    client.resources(NodeClaim.class).withName(name).delete();

    Expect.condition(client, name, ConditionTypes.DRAINED, Condition.Status.False, Termination.AWAITING_REPLACEMENT);
    assertThat(pod(client, web).getMetadata().getDeletionTimestamp()).as("evicted while the replacement is not ready").isNull();
    annotate(client, name, NodeMarks.REPLACEMENT_READY, Instant.now().toString());
    Expect.eventually("pod " + web.getMetadata().getName() + " evicted", () -> pod(client, web), p -> p.getMetadata().getDeletionTimestamp() != null);
    Kubelet.finishTermination(client, web);
    Expect.gone(client, NodeClaim.class, name);
  }

  @Test
  void withoutAReplacementASpotReclaimedClaimsPodsAreEvictedAtTheLatestStart(KubernetesClient client, TestNamespace ns) {
    NodeClaim claim = claimRunningWeb(client, ns);
    String name = claim.getMetadata().getName();
    Pod web = client.pods().inNamespace(ns.name()).withLabel("app", "web").list().getItems().get(0);
    // The latest start (the default lead before the drain's deadline, the reclaim less 15 s) is 5 s away.
    Instant reclaim = Instant.now().plus(Termination.RECLAIM_MARGIN).plus(NodeMarks.DEFAULT_EVICTION_LEAD).plusSeconds(5);
    Instant latestStart = NodeMarks.evictionsStartBy(reclaim.minus(Termination.RECLAIM_MARGIN), NodeMarks.DEFAULT_EVICTION_LEAD,
        List.of(DrainPod.of(web)));
    annotate(client, name, DovetailLabels.INTERRUPTION, NodeMarks.notice(NodeMarks.SPOT_INTERRUPTION, reclaim));

    client.resources(NodeClaim.class).withName(name).delete();

    Pod evicted = Expect.eventually("pod " + web.getMetadata().getName() + " evicted", () -> pod(client, web),
        p -> p.getMetadata().getDeletionTimestamp() != null);
    // The API server stamps an evicted pod's deletion at the eviction plus its grace period (whole seconds).
    Instant evictedAt = Instant.parse(evicted.getMetadata().getDeletionTimestamp()).minus(DrainPod.of(evicted).grace());
    assertThat(evictedAt).as("when the pod was evicted").isAfterOrEqualTo(latestStart.truncatedTo(ChronoUnit.SECONDS));
    Kubelet.finishTermination(client, web);
    Expect.gone(client, NodeClaim.class, name);
  }

  /** The provisioner started, and a launched, joined NodeClaim whose node runs one pod labelled app=web. */
  private NodeClaim claimRunningWeb(KubernetesClient client, TestNamespace ns) {
    provisioner = operator.start(client);
    EC2NodeClass nodeClass = Expect.readyNodeClass(client, NodeClasses.nodeClass());
    NodeClaim claim = client.resource(NodeClaims.nodeClaim(c -> c.nodeClass(nodeClass.getMetadata().getName()))).create();
    String node = Kubelet.join(client, claim.getMetadata().getName());
    Kubelet.runOn(client, Pods.pod(Pods.in(ns.name()), Pods.label("app", "web")), node);
    return claim;
  }

  /** A merge patch without a resource version: the provisioner writes the claim at the same time. */
  private static void annotate(KubernetesClient client, String claim, String key, String value) {
    client.resources(NodeClaim.class).withName(claim).patch(PatchContext.of(PatchType.JSON_MERGE),
        Serialization.asJson(Map.of("metadata", Map.of("annotations", Map.of(key, value)))));
  }

  private static Pod pod(KubernetesClient client, Pod pod) {
    return client.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName()).get();
  }
}
