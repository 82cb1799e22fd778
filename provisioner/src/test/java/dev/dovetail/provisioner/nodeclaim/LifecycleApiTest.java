package dev.dovetail.provisioner.nodeclaim;

import static dev.dovetail.provisioner.nodeclaim.NodeClaims.TERMINATION_FINALIZER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.aws.v1.EC2NodeClassStatus;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.Taint;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.karpenter.v1.WellKnownTaints;
import dev.dovetail.provisioner.cloud.CloudProviderException;
import dev.dovetail.provisioner.cloud.Instance;
import dev.dovetail.provisioner.testing.Expect;
import dev.dovetail.provisioner.testing.Kubelet;
import dev.dovetail.provisioner.testing.NodeClaims;
import dev.dovetail.provisioner.testing.NodeClasses;
import dev.dovetail.provisioner.testing.Pods;
import dev.dovetail.provisioner.testing.TestOperator;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithApiServer;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletionException;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A NodeClaim's lifecycle on a real API server, step by step, with the simulated cloud: the test makes
 * claims by hand and plays the kubelet of their instances (registers the Node, reports Ready, takes a
 * startup taint off), and watches what the provisioner writes.
 */
@WithApiServer
class LifecycleApiTest {
  private static final Taint DEDICATED = Taint.of("example.com/dedicated", "api", Taint.Effect.NoSchedule);
  private static final Taint AGENT_NOT_READY = Taint.of("example.com/agent-not-ready", null, Taint.Effect.NoSchedule);

  @RegisterExtension
  final TestOperator.PerTest operator = new TestOperator.PerTest();
  private TestOperator provisioner;

  @Test
  void aClaimMadeByHandGetsTheTerminationFinalizer(KubernetesClient client) {
    provisioner = operator.start(client);
    EC2NodeClass nodeClass = Expect.readyNodeClass(client, NodeClasses.nodeClass());
    NodeClaim created = client.resource(NodeClaims.nodeClaim(c -> c.nodeClass(name(nodeClass)))).create();
    assertThat(created.getMetadata().getFinalizers()).as("as written by hand").isNullOrEmpty();

    NodeClaim launched = Expect.launched(client, name(created));
    assertThat(launched.getMetadata().getFinalizers()).contains(TERMINATION_FINALIZER);
  }

  @Test
  void aLaunchedClaimRecordsItsInstance(KubernetesClient client) {
    provisioner = operator.start(client);
    EC2NodeClass nodeClass = Expect.readyNodeClass(client, NodeClasses.nodeClass());
    List<String> types = List.of("m5.large", "c5.large");
    NodeClaim claim = client.resource(NodeClaims.nodeClaim(c -> c.nodeClass(name(nodeClass)), c -> c.requirements(
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.SPOT),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_TYPE, types.toArray(String[]::new))))).create();

    NodeClaim launched = Expect.launched(client, name(claim));
    Instance instance = provisioner.cloud().get(launched.getStatus().providerID()).toCompletableFuture().join();
    assertThat(instance.nodeClaim()).isEqualTo(name(claim));
    assertThat(amounts(launched.getStatus().capacity())).isEqualTo(amounts(instance.capacity().toQuantities())).containsKeys("cpu", "memory");
    assertThat(amounts(launched.getStatus().allocatable())).isEqualTo(amounts(instance.allocatable().toQuantities()));
    assertThat(launched.getStatus().imageID()).isNotBlank().isEqualTo(instance.imageId());
    Set<String> zones = nodeClass.getStatus().subnets().stream().map(EC2NodeClassStatus.Subnet::zone).collect(Collectors.toSet());
    assertThat(launched.getMetadata().getLabels())
        .containsEntry(WellKnownLabels.INSTANCE_TYPE, instance.instanceType())
        .containsEntry(WellKnownLabels.ZONE, instance.zone())
        .containsEntry(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.SPOT);
    assertThat(types).contains(instance.instanceType());
    assertThat(zones).contains(instance.zone());
    // Launched, the rest waits for the node: Ready rolls up and names what it waits for.
    for (String waiting : List.of(ConditionTypes.REGISTERED, ConditionTypes.INITIALIZED)) {
      assertThat(Expect.condition(launched, waiting)).as(waiting).hasValueSatisfying(c -> assertThat(c.status()).isEqualTo(Condition.Status.Unknown));
    }
    assertThat(Expect.condition(launched, ConditionTypes.READY)).hasValueSatisfying(c -> {
      assertThat(c.status()).isEqualTo(Condition.Status.Unknown);
      assertThat(c.message()).contains(ConditionTypes.REGISTERED, ConditionTypes.INITIALIZED).doesNotContain(ConditionTypes.LAUNCHED);
    });
  }

  @Test
  void aClaimRegistersTheNodeWithItsProviderIdAndHandsItItsLabelsTaintsAndFinalizer(KubernetesClient client) {
    provisioner = operator.start(client);
    EC2NodeClass nodeClass = Expect.readyNodeClass(client, NodeClasses.nodeClass());
    NodeClaim claim = client.resource(NodeClaims.nodeClaim(c -> c.nodeClass(name(nodeClass)), c -> c.label("team", "api"),
        c -> c.taints(DEDICATED), c -> c.startupTaints(AGENT_NOT_READY))).create();
    NodeClaim launched = Expect.launched(client, name(claim));

    Node node = Kubelet.register(client, launched);
    assertThat(node.getMetadata().getLabels()).as("the kubelet registers none of the claim's labels").doesNotContainKey("team");
    assertThat(taints(node)).contains(WellKnownTaints.UNREGISTERED + ":NoExecute").doesNotContain(DEDICATED.key() + ":NoSchedule");

    NodeClaim registered = Expect.condition(client, name(claim), ConditionTypes.REGISTERED, Condition.Status.True, null);
    assertThat(registered.getStatus().nodeName()).isEqualTo(name(node));
    Node synced = client.nodes().withName(name(node)).get();
    assertThat(synced.getMetadata().getLabels()).containsAllEntriesOf(registered.getMetadata().getLabels())
        .containsEntry(WellKnownLabels.REGISTERED, "true");
    assertThat(taints(synced)).contains(DEDICATED.key() + ":NoSchedule", AGENT_NOT_READY.key() + ":NoSchedule")
        .doesNotContain(WellKnownTaints.UNREGISTERED + ":NoExecute");
    assertThat(synced.getMetadata().getOwnerReferences()).singleElement().satisfies(o -> {
      assertThat(o.getKind()).isEqualTo("NodeClaim");
      assertThat(o.getName()).isEqualTo(name(claim));
      assertThat(o.getUid()).isEqualTo(registered.getMetadata().getUid());
    });
    assertThat(synced.getMetadata().getFinalizers()).contains(TERMINATION_FINALIZER);
  }

  @Test
  void aClaimIsInitializedOnceItsNodeIsReadyAndItsStartupTaintIsGone(KubernetesClient client) {
    provisioner = operator.start(client);
    EC2NodeClass nodeClass = Expect.readyNodeClass(client, NodeClasses.nodeClass());
    NodeClaim claim = client.resource(NodeClaims.nodeClaim(c -> c.nodeClass(name(nodeClass)), c -> c.startupTaints(AGENT_NOT_READY))).create();
    Node node = Kubelet.register(client, Expect.launched(client, name(claim)));

    NodeClaim registered = Expect.condition(client, name(claim), ConditionTypes.REGISTERED, Condition.Status.True, null);
    assertThat(Expect.condition(registered, ConditionTypes.INITIALIZED)).hasValueSatisfying(c -> assertThat(c.isTrue()).isFalse());
    assertThat(Expect.condition(registered, ConditionTypes.READY)).hasValueSatisfying(c -> {
      assertThat(c.status()).isEqualTo(Condition.Status.Unknown);
      assertThat(c.message()).contains(ConditionTypes.INITIALIZED).doesNotContain(ConditionTypes.REGISTERED);
    });

    Kubelet.ready(client, name(node));
    NodeClaim waiting = Expect.claim(client, name(claim), "Initialized waits for the startup taint",
        c -> Expect.condition(c, ConditionTypes.INITIALIZED).filter(i -> !i.isTrue() && i.message().contains(AGENT_NOT_READY.key())).isPresent());
    assertThat(Expect.condition(waiting, ConditionTypes.READY)).hasValueSatisfying(c -> assertThat(c.isTrue()).isFalse());
    assertThat(client.nodes().withName(name(node)).get().getMetadata().getLabels()).doesNotContainKey(WellKnownLabels.INITIALIZED);

    Kubelet.removeTaint(client, name(node), AGENT_NOT_READY.key());
    NodeClaim ready = Expect.condition(client, name(claim), ConditionTypes.READY, Condition.Status.True, null);
    assertThat(Expect.condition(ready, ConditionTypes.INITIALIZED)).hasValueSatisfying(c -> assertThat(c.isTrue()).isTrue());
    assertThat(client.nodes().withName(name(node)).get().getMetadata().getLabels()).containsEntry(WellKnownLabels.INITIALIZED, "true");
  }

  @Test
  void aClaimWhoseNodeClassIsMissingIsNotLaunched(KubernetesClient client) {
    provisioner = operator.start(client);
    NodeClaim claim = client.resource(NodeClaims.nodeClaim(c -> c.nodeClass("absent"))).create();

    NodeClaim failing = Expect.condition(client, name(claim), ConditionTypes.LAUNCHED, Condition.Status.False, "NodeClassNotFound");
    assertThat(Expect.condition(failing, ConditionTypes.LAUNCHED)).hasValueSatisfying(c -> assertThat(c.message()).contains("absent"));
    assertThat(Expect.condition(failing, ConditionTypes.READY)).hasValueSatisfying(c -> assertThat(c.status()).isEqualTo(Condition.Status.False));
    assertThat(failing.getStatus().providerID()).isNull();
    assertThat(failing.getMetadata().getDeletionTimestamp()).isNull();
    assertThat(provisioner.cloud().list().toCompletableFuture().join()).noneMatch(i -> i.nodeClaim().equals(name(claim)));
  }

  @Test
  void aClaimWaitsForItsNodeClassToBeReadyAndThenLaunches(KubernetesClient client) {
    provisioner = operator.start(client);
    EC2NodeClass nodeClass = client.resource(NodeClasses.nodeClass(c -> c.subnetIds("subnet-matches-nothing"))).create();
    Expect.eventually("EC2NodeClass not Ready", () -> client.resources(EC2NodeClass.class).withName(name(nodeClass)).get(),
        c -> c.getStatus() != null && Expect.has(c.getStatus().conditions(), ConditionTypes.READY, Condition.Status.False, null));
    NodeClaim claim = client.resource(NodeClaims.nodeClaim(c -> c.nodeClass(name(nodeClass)))).create();

    NodeClaim waiting = Expect.condition(client, name(claim), ConditionTypes.LAUNCHED, Condition.Status.False, "NodeClassNotReady");
    assertThat(waiting.getMetadata().getDeletionTimestamp()).isNull();
    assertThat(provisioner.cloud().list().toCompletableFuture().join()).noneMatch(i -> i.nodeClaim().equals(name(claim)));

    client.resources(EC2NodeClass.class).withName(name(nodeClass)).patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"spec\":{\"subnetSelectorTerms\":[{\"tags\":{\"karpenter.sh/discovery\":\"api-test\"}}]}}");
    NodeClaim launched = Expect.launched(client, name(claim));
    assertThat(launched.getStatus().providerID()).isNotBlank();
  }

  @Test
  void aClaimForWhichNoOfferingHasCapacityIsDeleted(KubernetesClient client) {
    provisioner = operator.start(client, o -> o.insufficientCapacity("*/*/*"));
    EC2NodeClass nodeClass = Expect.readyNodeClass(client, NodeClasses.nodeClass());
    NodeClaim claim = client.resource(NodeClaims.nodeClaim(c -> c.nodeClass(name(nodeClass)))).create();

    Event event = Expect.event(client, "default", name(claim), "InsufficientCapacityError");
    assertThat(event.getType()).isEqualTo("Warning");
    Expect.gone(client, NodeClaim.class, name(claim));
    assertThat(provisioner.cloud().list().toCompletableFuture().join()).noneMatch(i -> i.nodeClaim().equals(name(claim)));
  }

  @Test
  void aFailedLaunchIsRetriedAndSucceedsOnceTheSimConfigMapStopsTheFaults(KubernetesClient client, TestNamespace ns) {
    provisioner = operator.start(client, o -> o.launchFailureRate(1), o -> o.simConfigMap(ns.name() + "/dovetail-sim"));
    EC2NodeClass nodeClass = Expect.readyNodeClass(client, NodeClasses.nodeClass());
    NodeClaim claim = client.resource(NodeClaims.nodeClaim(c -> c.nodeClass(name(nodeClass)))).create();

    Expect.condition(client, name(claim), ConditionTypes.LAUNCHED, Condition.Status.False, "LaunchFailed");
    assertThat(Expect.event(client, "default", name(claim), "LaunchFailed").getMessage()).contains("simulated launch failure");
    // The ConfigMap replaces the flags' faults while it exists: launches stop failing.
    client.configMaps().inNamespace(ns.name()).resource(new ConfigMapBuilder().withNewMetadata().withName("dovetail-sim").endMetadata()
        .addToData("launchFailureRate", "0").build()).create();

    NodeClaim launched = Expect.launched(client, name(claim));
    assertThat(launched.getMetadata().getDeletionTimestamp()).isNull();
    assertThat(launched.getMetadata().getUid()).isEqualTo(claim.getMetadata().getUid());
  }

  @Test
  void aClaimWhoseNodeDoesNotRegisterWithinTheTtlIsDeletedAndItsInstanceTerminated(KubernetesClient client) {
    Duration ttl = Duration.ofSeconds(3);
    provisioner = operator.start(client, o -> o.registrationTtl(ttl));
    EC2NodeClass nodeClass = Expect.readyNodeClass(client, NodeClasses.nodeClass());
    NodeClaim claim = client.resource(NodeClaims.nodeClaim(c -> c.nodeClass(name(nodeClass)))).create();
    NodeClaim launched = Expect.launched(client, name(claim));
    Instant launchedAt = Instant.parse(Expect.condition(launched, ConditionTypes.LAUNCHED).orElseThrow().lastTransitionTime());

    Event event = Expect.event(client, "default", name(claim), "FailedRegistration");
    Expect.gone(client, NodeClaim.class, name(claim));
    assertThat(Duration.between(launchedAt, Instant.parse(event.getFirstTimestamp()))).as("given up after the TTL, not before")
        .isGreaterThanOrEqualTo(ttl);
    assertThatThrownBy(() -> provisioner.cloud().get(launched.getStatus().providerID()).toCompletableFuture().join())
        .isInstanceOf(CompletionException.class).hasCauseInstanceOf(CloudProviderException.NotFound.class);
  }

  @Test
  void aClaimWhoseInstanceVanishedBeforeItsNodeRegisteredIsDeleted(KubernetesClient client) {
    provisioner = operator.start(client);
    EC2NodeClass nodeClass = Expect.readyNodeClass(client, NodeClasses.nodeClass());
    NodeClaim claim = client.resource(NodeClaims.nodeClaim(c -> c.nodeClass(name(nodeClass)))).create();
    NodeClaim launched = Expect.launched(client, name(claim));

    // Someone terminates the instance behind the provisioner's back.
    provisioner.cloud().delete(launched).toCompletableFuture().join();
    // A claim waiting for its node looks its instance up whenever it is reconciled (and every 30 s): a change to it brings that now.
    client.resources(NodeClaim.class).withName(name(claim)).patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"metadata\":{\"annotations\":{\"example.com/touched\":\"now\"}}}");

    assertThat(Expect.event(client, "default", name(claim), "InstanceNotFound").getMessage()).contains(launched.getStatus().providerID());
    Expect.gone(client, NodeClaim.class, name(claim));
  }

  @Test
  void aPodBoundBeforeTheClaimRecordsItsNodeStillMovesLastPodEventTime(KubernetesClient client, TestNamespace ns) {
    // The claim's node name is written after the node is released (taint off), so kube-scheduler can bind a pod
    // before the claim names the node. Here the claim is held before registering (its launch group's other node
    // has not appeared) while a pod is bound to its node: the pod's claim is found by the node's provider ID.
    provisioner = operator.start(client, o -> o.launchGroupWait(Duration.ofMinutes(5)));
    EC2NodeClass nodeClass = Expect.readyNodeClass(client, NodeClasses.nodeClass());
    NodeClaim held = client.resource(NodeClaims.nodeClaim(c -> c.nodeClass(name(nodeClass)),
        c -> c.annotation(DovetailLabels.LAUNCH_GROUP, "pass-1"))).create();
    NodeClaim peer = client.resource(NodeClaims.nodeClaim(c -> c.nodeClass(name(nodeClass)),
        c -> c.annotation(DovetailLabels.LAUNCH_GROUP, "pass-1"))).create();
    Expect.launched(client, name(peer));
    Node node = Kubelet.register(client, Expect.launched(client, name(held)));
    Kubelet.runOn(client, Pods.pod(Pods.in(ns.name())), name(node));

    NodeClaim moved = Expect.claim(client, name(held), "lastPodEventTime written", c -> c.getStatus().lastPodEventTime() != null);
    assertThat(moved.getStatus().nodeName()).as("not registered yet: the claim does not name its node").isNull();
    assertThat(Expect.condition(moved, ConditionTypes.REGISTERED)).hasValueSatisfying(c -> assertThat(c.status()).isEqualTo(Condition.Status.Unknown));
  }

  // ---------------------------------------------------------------- helpers

  private static String name(HasMetadata object) {
    return object.getMetadata().getName();
  }

  private static List<String> taints(Node node) {
    return node.getSpec().getTaints() == null ? List.of() : node.getSpec().getTaints().stream().map(t -> t.getKey() + ":" + t.getEffect()).toList();
  }

  /** Quantities as numbers, so 1Gi and 1073741824 compare equal. */
  private static Map<String, BigDecimal> amounts(Map<String, Quantity> quantities) {
    Map<String, BigDecimal> out = new TreeMap<>();
    quantities.forEach((k, v) -> out.put(k, v.getNumericalAmount().stripTrailingZeros()));
    return out;
  }
}
