package dev.dovetail.provisioner.disruption;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.disruption.Drain;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodePool;
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
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Node repair on a real API server, with the NodeRepair gate on and a Ready=False toleration of two
 * seconds: an unhealthy node of a healthy pool is replaced at once — its claim deleted with the
 * termination timestamp set, so even a do-not-disrupt pod does not hold the drain — while a pool most of whose nodes are unhealthy
 * is left alone and says why.
 */
@WithApiServer
class RepairApiTest {
  @RegisterExtension
  final TestOperator.PerTest operator = new TestOperator.PerTest();

  private static final Repair.Policy NOT_READY = new Repair.Policy("Ready", "False", Duration.ofSeconds(2));

  /** {@code count} joined claims of a new pool, each protected from voluntary disruption. */
  private static List<NodeClaim> nodes(KubernetesClient client, int count) {
    EC2NodeClass nodeClass = Expect.readyNodeClass(client, NodeClasses.nodeClass());
    NodePool pool = client.resource(NodePools.nodePool(p -> p.nodeClass(nodeClass.getMetadata().getName()))).create();
    List<NodeClaim> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      NodeClaim claim = client.resource(NodeClaims.nodeClaim(c -> c.nodeClass(nodeClass.getMetadata().getName()),
          c -> c.nodePool(pool.getMetadata().getName()), c -> c.annotation(Drain.DO_NOT_DISRUPT, "true"))).create();
      Kubelet.join(client, claim.getMetadata().getName());
      out.add(client.resources(NodeClaim.class).withName(claim.getMetadata().getName()).get());
    }
    return out;
  }

  /** The kubelet stops reporting Ready (as the node lifecycle controller would see a broken node). */
  private static void notReady(KubernetesClient client, NodeClaim claim) {
    String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    client.nodes().withName(claim.getStatus().nodeName()).subresource("status").patch(PatchContext.of(PatchType.STRATEGIC_MERGE),
        Serialization.asJson(Map.of("status", Map.of("conditions", List.of(Map.of("type", "Ready", "status", "False", "reason", "KubeletNotReady",
            "lastHeartbeatTime", now, "lastTransitionTime", now))))));
  }

  @Test
  void anUnhealthyNodeIsReplacedWithoutWaitingForItsDrain(KubernetesClient client, TestNamespace ns) {
    operator.start(client, o -> o.nodeRepair(NOT_READY));
    List<NodeClaim> claims = nodes(client, 5);
    NodeClaim sick = claims.get(2);
    // A pod the drain would wait for forever (do-not-disrupt), were the node not being repaired.
    Pod stuck = Kubelet.runOn(client, Pods.pod(Pods.in(ns.name()), Pods.annotation(Drain.DO_NOT_DISRUPT, "true")), sick.getStatus().nodeName());
    notReady(client, sick);

    assertThat(Expect.event(client, "default", sick.getMetadata().getName(), "NodeRepair").getMessage()).contains("Ready=False");
    Expect.gone(client, NodeClaim.class, sick.getMetadata().getName());
    assertThat(client.pods().inNamespace(ns.name()).withName(stuck.getMetadata().getName()).get()).as("deleted at the repair's deadline").isNull();
    for (NodeClaim healthy : List.of(claims.get(0), claims.get(1), claims.get(3), claims.get(4))) {
      assertThat(client.resources(NodeClaim.class).withName(healthy.getMetadata().getName()).get().getMetadata().getDeletionTimestamp())
          .as(healthy.getMetadata().getName()).isNull();
    }
  }

  @Test
  void aPoolWithMostOfItsNodesUnhealthyIsNotRepaired(KubernetesClient client) {
    operator.start(client, o -> o.nodeRepair(NOT_READY));
    List<NodeClaim> claims = nodes(client, 2);
    claims.forEach(c -> notReady(client, c));

    assertThat(Expect.event(client, "default", claims.get(0).getMetadata().getName(), "NodeRepairBlocked").getMessage())
        .contains("2 of its 2 nodes are unhealthy");
    for (NodeClaim c : claims) {
      assertThat(client.resources(NodeClaim.class).withName(c.getMetadata().getName()).get().getMetadata().getDeletionTimestamp()).isNull();
    }
  }
}
