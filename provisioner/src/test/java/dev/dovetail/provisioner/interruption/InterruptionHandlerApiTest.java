package dev.dovetail.provisioner.interruption;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.aws.v1.EC2NodeClassStatus;
import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.disruption.Drain;
import dev.dovetail.api.interruption.NodeMarks;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.InstanceOption;
import dev.dovetail.api.scheduling.Offering;
import dev.dovetail.provisioner.cloud.CloudProvider;
import dev.dovetail.provisioner.cloud.Instance;
import dev.dovetail.provisioner.cloud.ProviderId;
import dev.dovetail.provisioner.testing.Expect;
import dev.dovetail.provisioner.testing.Kubelet;
import dev.dovetail.provisioner.testing.NodeClaims;
import dev.dovetail.provisioner.testing.NodeClasses;
import dev.dovetail.provisioner.testing.Pods;
import dev.dovetail.provisioner.testing.TestOperator;
import dev.dovetail.runtime.Recorder;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithApiServer;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Queue mode on a real API server: the provisioner's handler is given EventBridge events as they come
 * off the interruption queue (parsed as the queue reader parses them, the SQS part left out) for the
 * instances of claims the test launched, and the test checks what the handler did to the claim, its
 * node and the simulated cloud.
 */
@WithApiServer
class InterruptionHandlerApiTest {
  private TestOperator provisioner;
  private Recorder events;
  private MarkingCloud cloud;

  @AfterEach
  void stop() {
    if (events != null) {
      events.close();
    }
    if (provisioner != null) {
      provisioner.close();
    }
  }

  @Test
  void aSpotInterruptionMarksTaintsAndCordonsTheNodeDeletesTheClaimAndAvoidsTheOffering(KubernetesClient client, TestNamespace ns) {
    Running spot = spotClaimWithNode(client);
    // A pod that must not be disrupted holds the drain, so the claim can be looked at while it is being deleted.
    Pod held = Kubelet.runOn(client, Pods.pod(Pods.in(ns.name()), Pods.annotation(Drain.DO_NOT_DISRUPT, "true")), spot.node());
    Instant sent = Instant.now().truncatedTo(ChronoUnit.SECONDS);

    InterruptionHandler.Outcome outcome = handler(client).handle(InterruptionMessage.parse(event("EC2 Spot Instance Interruption Warning", sent,
        Map.of("instance-id", spot.instanceId(), "instance-action", "terminate"))));

    assertThat(outcome.nodeClaims()).containsExactly(spot.claim());
    assertThat(outcome.unknownInstances()).isEmpty();
    NodeClaim marked = client.resources(NodeClaim.class).withName(spot.claim()).get();
    assertThat(NodeMarks.interruptionTime(marked.getMetadata().getAnnotations().get(DovetailLabels.INTERRUPTION)))
        .as("the reclaim, two minutes after the warning").contains(sent.plus(Duration.ofMinutes(2)));
    assertThat(marked.getMetadata().getDeletionTimestamp()).as("deleted, so it drains").isNotNull();
    Node node = client.nodes().withName(spot.node()).get();
    assertThat(node.getSpec().getUnschedulable()).isTrue();
    assertThat(taints(node)).contains(WellKnownLabels.DISRUPTED_TAINT + ":NoSchedule", DovetailLabels.SPOT_INTERRUPTION_TAINT + ":NoSchedule");
    assertThat(Expect.event(client, "default", spot.claim(), "SpotInterrupted").getType()).isEqualTo("Warning");
    assertThat(Expect.event(client, "default", spot.node(), "SpotInterrupted").getType()).isEqualTo("Warning");
    assertThat(cloud.marked).as("the handler itself marks the interrupted offering").containsExactly(String.join("/",
        marked.getMetadata().getLabels().get(WellKnownLabels.INSTANCE_TYPE), marked.getMetadata().getLabels().get(WellKnownLabels.ZONE),
        WellKnownLabels.SPOT));
    assertThat(offering(spot.nodeClass(), marked).available()).as("the interrupted offering is not bought again for a while").isFalse();

    // The pod goes (its controller would delete it by the reclaim), and so do the node and the claim.
    client.pods().resource(held).withGracePeriod(0).delete();
    Expect.gone(client, Node.class, spot.node());
    Expect.gone(client, NodeClaim.class, spot.claim());
  }

  @Test
  void aRebalanceRecommendationMarksAndTaintsButKeepsTheClaim(KubernetesClient client) {
    Running spot = spotClaimWithNode(client);

    InterruptionHandler.Outcome outcome = handler(client).handle(InterruptionMessage.parse(event("EC2 Instance Rebalance Recommendation",
        Instant.now(), Map.of("instance-id", spot.instanceId()))));

    assertThat(outcome.nodeClaims()).containsExactly(spot.claim());
    NodeClaim marked = client.resources(NodeClaim.class).withName(spot.claim()).get();
    assertThat(marked.getMetadata().getAnnotations().get(DovetailLabels.INTERRUPTION)).startsWith(NodeMarks.REBALANCE_RECOMMENDATION + "@");
    assertThat(marked.getMetadata().getDeletionTimestamp()).isNull();
    Node node = client.nodes().withName(spot.node()).get();
    assertThat(taints(node)).contains(DovetailLabels.REBALANCE_TAINT + ":NoSchedule").doesNotContain(WellKnownLabels.DISRUPTED_TAINT + ":NoSchedule");
    assertThat(node.getSpec().getUnschedulable()).isNotEqualTo(Boolean.TRUE);
    assertThat(Expect.event(client, "default", spot.claim(), "SpotRebalanceRecommendation").getType()).isEqualTo("Normal");
    assertThat(cloud.marked).as("a rebalance recommendation is no interruption").isEmpty();
  }

  @Test
  void anEventForAnInstanceNoClaimOwnsChangesNothing(KubernetesClient client) {
    Running spot = spotClaimWithNode(client);

    InterruptionHandler.Outcome outcome = handler(client).handle(InterruptionMessage.parse(event("EC2 Instance State-change Notification",
        Instant.now(), Map.of("instance-id", "i-0notours0000000", "state", "shutting-down"))));

    assertThat(outcome.nodeClaims()).isEmpty();
    assertThat(outcome.unknownInstances()).containsExactly("i-0notours0000000");
    NodeClaim untouched = client.resources(NodeClaim.class).withName(spot.claim()).get();
    assertThat(untouched.getMetadata().getAnnotations()).doesNotContainKey(DovetailLabels.INTERRUPTION);
    assertThat(untouched.getMetadata().getDeletionTimestamp()).isNull();
    assertThat(taints(client.nodes().withName(spot.node()).get())).doesNotContain(WellKnownLabels.DISRUPTED_TAINT + ":NoSchedule");
  }

  // ---------------------------------------------------------------- helpers

  /** A spot claim the test launched, with its node registered and Ready, as the provisioner's caches see it. */
  private record Running(String claim, String node, String instanceId, EC2NodeClass nodeClass) {
  }

  private Running spotClaimWithNode(KubernetesClient client) {
    provisioner = TestOperator.start(client);
    EC2NodeClass nodeClass = Expect.readyNodeClass(client, NodeClasses.nodeClass());
    NodeClaim claim = client.resource(NodeClaims.nodeClaim(c -> c.nodeClass(nodeClass.getMetadata().getName()),
        c -> c.requirements(NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.SPOT),
            NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_TYPE, "m5.large")))).create();
    String name = claim.getMetadata().getName();
    String node = Kubelet.join(client, name);
    // The handler reads the provisioner's caches: wait until they have the claim with its node, and the node.
    NodeClaim cached = Expect.eventually("claim and node in the caches", () -> provisioner.caches().nodeClaim(name).orElse(null),
        c -> c != null && node.equals(c.getStatus().nodeName()) && provisioner.caches().node(node).isPresent());
    EC2NodeClass cachedClass = provisioner.caches().nodeClass(nodeClass.getMetadata().getName()).orElseThrow();
    return new Running(name, node, ProviderId.parse(cached.getStatus().providerID()).orElseThrow().instanceId(), cachedClass);
  }

  private InterruptionHandler handler(KubernetesClient client) {
    events = new Recorder(client, "dovetail-provisioner", Clock.systemUTC(), "api-test", provisioner.registry());
    cloud = new MarkingCloud(provisioner.cloud());
    return new InterruptionHandler(client, provisioner.caches(), cloud, events);
  }

  /**
   * The provisioner's simulated cloud, noting the offerings marked unavailable through it: the disruption
   * controller marks an interrupted offering too once it sees the claim's notice, so only this tells
   * whether the handler did.
   */
  private static final class MarkingCloud implements CloudProvider {
    private final CloudProvider cloud;
    private final List<String> marked = new CopyOnWriteArrayList<>();

    MarkingCloud(CloudProvider cloud) {
      this.cloud = cloud;
    }

    @Override
    public void markUnavailable(String instanceType, String zone, String capacityType) {
      marked.add(instanceType + "/" + zone + "/" + capacityType);
      cloud.markUnavailable(instanceType, zone, capacityType);
    }

    @Override
    public String name() {
      return cloud.name();
    }

    @Override
    public CompletionStage<EC2NodeClassStatus> resolve(EC2NodeClass nodeClass) {
      return cloud.resolve(nodeClass);
    }

    @Override
    public CompletionStage<List<InstanceOption>> instanceOptions(EC2NodeClass nodeClass) {
      return cloud.instanceOptions(nodeClass);
    }

    @Override
    public CompletionStage<Instance> create(NodeClaim claim, EC2NodeClass nodeClass) {
      return cloud.create(claim, nodeClass);
    }

    @Override
    public CompletionStage<Void> delete(NodeClaim claim) {
      return cloud.delete(claim);
    }

    @Override
    public CompletionStage<Instance> get(String providerId) {
      return cloud.get(providerId);
    }

    @Override
    public CompletionStage<List<Instance>> list() {
      return cloud.list();
    }
  }

  /** An EventBridge event from {@code aws.ec2}, as EventBridge puts it on the queue. */
  private static String event(String detailType, Instant time, Map<String, String> detail) {
    StringBuilder fields = new StringBuilder();
    detail.forEach((k, v) -> fields.append(fields.length() == 0 ? "" : ",").append('"').append(k).append("\":\"").append(v).append('"'));
    return "{\"version\":\"0\",\"id\":\"7bf73129-1428-4cd3-a780-95db273d1602\",\"detail-type\":\"" + detailType + "\","
        + "\"source\":\"aws.ec2\",\"account\":\"123456789012\",\"time\":\"" + time + "\",\"region\":\"us-east-1\","
        + "\"resources\":[],\"detail\":{" + fields + "}}";
  }

  /** The claim's offering (its type, zone and capacity type) as the cloud now lists it for the class. */
  private Offering offering(EC2NodeClass nodeClass, NodeClaim claim) {
    Map<String, String> labels = claim.getMetadata().getLabels();
    List<InstanceOption> options = provisioner.cloud().instanceOptions(nodeClass).toCompletableFuture().join();
    return options.stream().filter(o -> o.name().equals(labels.get(WellKnownLabels.INSTANCE_TYPE))).flatMap(o -> o.offerings().stream())
        .filter(o -> o.zone().equals(labels.get(WellKnownLabels.ZONE)) && o.capacityType() == CapacityType.SPOT).findFirst().orElseThrow();
  }

  private static List<String> taints(Node node) {
    List<Taint> taints = node.getSpec().getTaints() == null ? List.of() : node.getSpec().getTaints();
    return taints.stream().map(t -> t.getKey() + ":" + t.getEffect()).toList();
  }
}
