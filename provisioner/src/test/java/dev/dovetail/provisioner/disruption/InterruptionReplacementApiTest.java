package dev.dovetail.provisioner.disruption;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.interruption.NodeMarks;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.kube.NodeMarker;
import dev.dovetail.provisioner.testing.Expect;
import dev.dovetail.provisioner.testing.Kubelet;
import dev.dovetail.provisioner.testing.NodeClaims;
import dev.dovetail.provisioner.testing.NodeClasses;
import dev.dovetail.provisioner.testing.NodePools;
import dev.dovetail.provisioner.testing.Pods;
import dev.dovetail.provisioner.testing.TestOperator;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithApiServer;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The disruption controller's interruption method on a real API server: once a NodeClaim carries an
 * interruption notice (as the interrupt listener leaves it: the node tainted, the claim annotated), its
 * pods get a replacement NodeClaim from their pool at once, in another offering than the interrupted
 * spot one, while the interrupted claim itself is left to whoever acts on the notice.
 */
@WithApiServer
class InterruptionReplacementApiTest {
  @RegisterExtension
  final TestOperator.PerTest operator = new TestOperator.PerTest();
  private TestOperator provisioner;

  @Test
  void theInterruptedClaimsPodsGetReplacementCapacityInAnotherOffering(KubernetesClient client, TestNamespace ns) {
    provisioner = operator.start(client);
    EC2NodeClass nodeClass = Expect.readyNodeClass(client, NodeClasses.nodeClass());
    String classRef = nodeClass.getMetadata().getName();
    // One type in one zone: the only offerings are its spot one (interrupted) and its on-demand one.
    NodeSelectorRequirementWithMinValues type = NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_TYPE, "m5.large");
    NodeSelectorRequirementWithMinValues zone = NodeSelectorRequirementWithMinValues.in(WellKnownLabels.ZONE, "us-east-1a");
    NodePool pool = client.resource(NodePools.nodePool(p -> p.nodeClass(classRef), p -> p.requirements(type, zone,
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.SPOT, WellKnownLabels.ON_DEMAND)))).create();
    String poolName = pool.getMetadata().getName();
    NodeClaim interrupted = client.resource(NodeClaims.nodeClaim(c -> c.nodeClass(classRef), c -> c.nodePool(poolName),
        c -> c.requirements(type, zone, NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.SPOT)))).create();
    String name = interrupted.getMetadata().getName();
    String node = Kubelet.join(client, name);
    List<Pod> pods = List.of(
        Kubelet.runOn(client, Pods.pod(Pods.in(ns.name()), Pods.requests("300m", "256Mi")), node),
        Kubelet.runOn(client, Pods.pod(Pods.in(ns.name()), Pods.requests("400m", "512Mi")), node));
    Map<String, String> before = client.resources(NodeClaim.class).withName(name).get().getMetadata().getLabels();
    Expect.eventually("the pods on the node in the caches", () -> provisioner.caches().podsOn(node).size(), n -> n == pods.size());

    // What the interrupt listener does on a spot notice: taint the node, then mark its claim.
    NodeMarker.taint(client, node, Map.of(WellKnownLabels.DISRUPTED_TAINT, ""), true);
    Expect.eventually("the taint in the caches", () -> provisioner.caches().node(node).orElseThrow().getSpec().getTaints(),
        taints -> taints != null && taints.stream().anyMatch(t -> WellKnownLabels.DISRUPTED_TAINT.equals(t.getKey())));
    NodeMarker.markNodeClaim(client, client.resources(NodeClaim.class).withName(name).get(),
        NodeMarks.notice(NodeMarks.SPOT_INTERRUPTION, Instant.now().plus(Duration.ofMinutes(2))));

    NodeClaim replacement = Expect.eventually("a replacement NodeClaim in " + poolName,
        () -> client.resources(NodeClaim.class).withLabel(WellKnownLabels.NODEPOOL, poolName).list().getItems().stream()
            .filter(c -> !c.getMetadata().getName().equals(name)).findFirst(), o -> o.isPresent()).orElseThrow();
    BigDecimal podCpu = pods.stream().map(p -> p.getSpec().getContainers().get(0).getResources().getRequests().get("cpu"))
        .map(Quantity::getNumericalAmount).reduce(BigDecimal.ZERO, BigDecimal::add);
    assertThat(replacement.getSpec().resources().requests().get("cpu").getNumericalAmount()).as("room for the displaced pods")
        .isGreaterThanOrEqualTo(podCpu);
    for (Pod p : pods) {
      assertThat(Expect.event(client, ns.name(), p.getMetadata().getName(), "Nominated").getMessage())
          .contains("nodeclaim/" + replacement.getMetadata().getName());
    }

    NodeClaim launched = Expect.launched(client, replacement.getMetadata().getName());
    Map<String, String> after = launched.getMetadata().getLabels();
    assertThat(List.of(after.get(WellKnownLabels.INSTANCE_TYPE), after.get(WellKnownLabels.ZONE), after.get(WellKnownLabels.CAPACITY_TYPE)))
        .as("not the interrupted offering").isNotEqualTo(List.of(before.get(WellKnownLabels.INSTANCE_TYPE), before.get(WellKnownLabels.ZONE),
            WellKnownLabels.SPOT));
    assertThat(client.resources(NodeClaim.class).withName(name).get().getMetadata().getDeletionTimestamp())
        .as("the interrupted claim is the notice handler's to delete").isNull();
  }
}
