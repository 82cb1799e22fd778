package dev.dovetail.provisioner.provisioning;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.scheduling.SimNode;
import dev.dovetail.provisioner.cluster.Caches;
import dev.dovetail.provisioner.testing.Expect;
import dev.dovetail.provisioner.testing.Kubelet;
import dev.dovetail.provisioner.testing.Nodes;
import dev.dovetail.provisioner.testing.Pods;
import dev.dovetail.provisioner.testing.TestOperator;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithApiServer;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The capacity the provisioner reads from its caches on a real API server. A pass reads the pending pods
 * first and the capacity after: a pod that binds in between is one of the pods to place and also holds
 * room on its node. Placed anew, it must give that room back, or the node looks full and a second
 * NodeClaim is launched for a pod that already runs (seen in CI: one more claim than pods, between a
 * node's registration and its initialization).
 */
@WithApiServer
class SnapshotApiTest {
  @RegisterExtension
  final TestOperator.PerTest operator = new TestOperator.PerTest();

  private static SimNode node(Snapshot.Capacity.View view, String name) {
    return view.nodes().stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void aPodPlacedAnewGivesBackTheRoomItHoldsWhereItIsBound(KubernetesClient client, TestNamespace ns) {
    Caches caches = operator.start(client).caches();
    Node created = client.nodes().resource(Nodes.node(Nodes.ready())).create();
    String name = created.getMetadata().getName();
    Pod bound = Kubelet.runOn(client, Pods.pod(Pods.in(ns.name()), Pods.requests("1500m", "1Gi")), name);
    Pod other = Kubelet.runOn(client, Pods.pod(Pods.in(ns.name()), Pods.requests("500m", "512Mi")), name);
    Expect.eventually("both pods bound in the caches", () -> caches.podsOn(name), pods -> pods.size() == 2);

    Snapshot.Capacity capacity = Snapshot.of(caches, Map.of());
    assertThat(node(capacity.without(Set.of(), Set.of()), name).requested().cpuMillis()).as("both pods hold room").isEqualTo(2000);
    SimNode placedAnew = node(capacity.without(Set.of(), Set.of(bound.getMetadata().getUid())), name);
    assertThat(placedAnew.requested().cpuMillis()).as("the pod placed anew holds nothing; the other still does").isEqualTo(500);
    assertThat(placedAnew.requested().get("pods")).isEqualTo(1);
    assertThat(node(capacity.without(Set.of(), Set.of(other.getMetadata().getUid(), bound.getMetadata().getUid())), name)
        .requested().cpuMillis()).isZero();
  }
}
