package dev.dovetail.provisioner.testing;

import dev.dovetail.api.common.Condition;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.WellKnownTaints;
import io.fabric8.kubernetes.api.model.BindingBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * What a node's kubelet (and kube-scheduler's bind) would do, done by the test: with only an API server
 * nothing registers Nodes, binds or runs pods, or finishes their termination.
 */
public final class Kubelet {
  private Kubelet() {
  }

  /** Registers the Node a launched claim's instance would ({@link Nodes#launchedFor}), plus the overrides. */
  @SafeVarargs
  public static Node register(KubernetesClient client, NodeClaim launched, UnaryOperator<NodeBuilder>... overrides) {
    @SuppressWarnings("unchecked")
    UnaryOperator<NodeBuilder>[] all = new UnaryOperator[overrides.length + 1];
    all[0] = Nodes.launchedFor(launched);
    System.arraycopy(overrides, 0, all, 1, overrides.length);
    return client.nodes().resource(Nodes.node(all)).create();
  }

  /**
   * The whole way of a hand-made claim's instance into the cluster: once the claim is Launched its Node
   * registers, the claim takes it over (Registered), the node reports Ready and the claim is Initialized.
   * Returns the node's name.
   */
  public static String join(KubernetesClient client, String claimName) {
    Node node = register(client, Expect.launched(client, claimName));
    String nodeName = node.getMetadata().getName();
    Expect.condition(client, claimName, ConditionTypes.REGISTERED, Condition.Status.True, null);
    ready(client, nodeName);
    Expect.condition(client, claimName, ConditionTypes.INITIALIZED, Condition.Status.True, null);
    return nodeName;
  }

  /**
   * The node reports Ready, and the node lifecycle controller (kube-controller-manager's part, absent
   * here) takes off the {@code node.kubernetes.io/not-ready} taint the API server's admission put on it.
   */
  public static Node ready(KubernetesClient client, String nodeName) {
    String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    client.nodes().withName(nodeName).subresource("status").patch(PatchContext.of(PatchType.STRATEGIC_MERGE), Serialization.asJson(
        Map.of("status", Map.of("conditions", List.of(Map.of("type", "Ready", "status", "True", "reason", "KubeletReady",
            "lastHeartbeatTime", now, "lastTransitionTime", now))))));
    return removeTaint(client, nodeName, WellKnownTaints.NOT_READY);
  }

  /** An agent on the node (a CNI, a device plugin) has done its part and takes its taint off. */
  public static Node removeTaint(KubernetesClient client, String nodeName, String key) {
    for (int attempt = 1; ; attempt++) {
      Node node = client.nodes().withName(nodeName).get();
      List<Taint> taints = node.getSpec().getTaints() == null ? List.of() : node.getSpec().getTaints();
      List<Taint> kept = taints.stream().filter(t -> !key.equals(t.getKey())).toList();
      try {
        return client.nodes().withName(nodeName).patch(PatchContext.of(PatchType.JSON_MERGE), Serialization.asJson(
            Map.of("metadata", Map.of("resourceVersion", node.getMetadata().getResourceVersion()), "spec", Map.of("taints", kept))));
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == 10) {
          throw e;
        }
      }
    }
  }

  /** Creates the pod, binds it to the node (kube-scheduler's binding subresource) and runs it: Running and Ready. */
  public static Pod runOn(KubernetesClient client, Pod pod, String nodeName) {
    return bindAndRun(client, client.pods().resource(pod).create(), nodeName);
  }

  /** Binds a pod that exists (a pending one, say) to the node, as kube-scheduler would, and runs it: Running and Ready. */
  public static Pod bindAndRun(KubernetesClient client, Pod created, String nodeName) {
    String ns = created.getMetadata().getNamespace();
    String name = created.getMetadata().getName();
    client.bindings().inNamespace(ns).resource(new BindingBuilder().withNewMetadata().withName(name).withNamespace(ns).endMetadata()
        .withNewTarget().withKind("Node").withApiVersion("v1").withName(nodeName).endTarget().build()).create();
    String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    return client.pods().inNamespace(ns).withName(name).subresource("status").patch(PatchContext.of(PatchType.STRATEGIC_MERGE),
        Serialization.asJson(Map.of("status", Map.of("phase", "Running", "startTime", now, "conditions", List.of(
            Map.of("type", "PodScheduled", "status", "True", "lastTransitionTime", now),
            Map.of("type", "Ready", "status", "True", "lastTransitionTime", now))))));
  }

  /** Creates the pod and marks it as kube-scheduler does when no node fits it (PodScheduled False, Unschedulable): pending for the provisioner. */
  public static Pod unschedulable(KubernetesClient client, Pod pod) {
    Pod created = client.pods().resource(pod).create();
    String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    return client.pods().inNamespace(created.getMetadata().getNamespace()).withName(created.getMetadata().getName()).subresource("status")
        .patch(PatchContext.of(PatchType.STRATEGIC_MERGE), Serialization.asJson(Map.of("status", Map.of("phase", "Pending", "conditions",
            List.of(Map.of("type", "PodScheduled", "status", "False", "reason", "Unschedulable", "lastTransitionTime", now,
                "message", "0/0 nodes are available"))))));
  }

  /**
   * The pod's containers have stopped: the kubelet removes a terminating pod (deletion with grace 0, as
   * the kubelet confirms it).
   */
  public static void finishTermination(KubernetesClient client, Pod pod) {
    client.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName()).withGracePeriod(0).delete();
  }
}
