package dev.dovetail.interruption;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.TaintBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the agent does to its own node and its NodeClaim: taints and cordons it (one optimistic-locked
 * patch, retried on conflict) and marks the NodeClaim so the provisioner replaces the capacity at once.
 */
final class NodeActions {
  static final String INTERRUPTION_TAINT = DovetailLabels.SPOT_INTERRUPTION_TAINT;
  static final String REBALANCE_TAINT = DovetailLabels.REBALANCE_TAINT;
  static final String INTERRUPTION_ANNOTATION = DovetailLabels.INTERRUPTION;
  static final String SPOT_INTERRUPTION = "spot-interruption";

  private final KubernetesClient client;
  private final String nodeName;

  NodeActions(KubernetesClient client, String nodeName) {
    this.client = client;
    this.nodeName = nodeName;
  }

  Optional<Node> node() {
    return Optional.ofNullable(client.nodes().withName(nodeName).get());
  }

  /** Adds the taints (key → value, effect NoSchedule) that are missing and, if asked, cordons. */
  void taint(Map<String, String> taints, boolean cordon) {
    for (int attempt = 1; ; attempt++) {
      Node node = node().orElseThrow(() -> new IllegalStateException("node " + nodeName + " does not exist"));
      List<Taint> current = node.getSpec() == null || node.getSpec().getTaints() == null ? List.of() : node.getSpec().getTaints();
      List<Taint> next = new ArrayList<>(current);
      taints.forEach((key, value) -> {
        if (current.stream().noneMatch(t -> key.equals(t.getKey()) && "NoSchedule".equals(t.getEffect()))) {
          next.add(new TaintBuilder().withKey(key).withValue(value).withEffect("NoSchedule").build());
        }
      });
      boolean cordoned = node.getSpec() != null && Boolean.TRUE.equals(node.getSpec().getUnschedulable());
      if (next.size() == current.size() && (cordoned || !cordon)) {
        return;
      }
      Map<String, Object> spec = new java.util.HashMap<>(Map.of("taints", next));
      if (cordon) {
        spec.put("unschedulable", true);
      }
      try {
        client.nodes().withName(nodeName).patch(PatchContext.of(PatchType.JSON_MERGE), Serialization.asJson(Map.of(
            "metadata", Map.of("resourceVersion", node.getMetadata().getResourceVersion()), "spec", spec)));
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt >= 5) {
          throw e;
        }
      }
    }
  }

  /**
   * Annotates the NodeClaim that launched this node (by provider ID), if there is one. A spot
   * interruption is never replaced by a milder notice (a rebalance recommendation often comes with it).
   */
  Optional<String> markNodeClaim(String notice) {
    Optional<String> providerId = node().map(n -> n.getSpec() == null ? null : n.getSpec().getProviderID());
    if (providerId.isEmpty()) {
      return Optional.empty();
    }
    for (NodeClaim claim : client.resources(NodeClaim.class).list().getItems()) {
      if (claim.getStatus() != null && providerId.get().equals(claim.getStatus().providerID())
          || nodeName.equals(claim.getStatus() == null ? null : claim.getStatus().nodeName())) {
        String current = claim.getMetadata().getAnnotations() == null ? null : claim.getMetadata().getAnnotations().get(INTERRUPTION_ANNOTATION);
        if (current != null && current.startsWith(SPOT_INTERRUPTION) && !notice.startsWith(SPOT_INTERRUPTION)) {
          return Optional.of(claim.getMetadata().getName());
        }
        client.resources(NodeClaim.class).withName(claim.getMetadata().getName()).patch(PatchContext.of(PatchType.JSON_MERGE),
            Serialization.asJson(Map.of("metadata", Map.of("annotations", Map.of(INTERRUPTION_ANNOTATION, notice)))));
        return Optional.of(claim.getMetadata().getName());
      }
    }
    return Optional.empty();
  }

  static Map<String, String> interruptionTaints(String action) {
    return Map.of(WellKnownLabels.DISRUPTED_TAINT, "", INTERRUPTION_TAINT, action);
  }
}
