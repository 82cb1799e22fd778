package dev.dovetail.interruption;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.runtime.NodeMarks;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
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
  static final String SPOT_INTERRUPTION = NodeMarks.SPOT_INTERRUPTION;

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
    if (!NodeMarks.taint(client, nodeName, taints, cordon)) {
      throw new IllegalStateException("node " + nodeName + " does not exist");
    }
  }

  /**
   * Annotates the NodeClaim that launched this node (by provider ID or node name), if there is one; a
   * spot interruption is never replaced by a milder notice.
   */
  Optional<String> markNodeClaim(String notice) {
    Optional<String> providerId = node().map(n -> n.getSpec() == null ? null : n.getSpec().getProviderID());
    if (providerId.isEmpty()) {
      return Optional.empty();
    }
    for (NodeClaim claim : client.resources(NodeClaim.class).list().getItems()) {
      if (claim.getStatus() != null && (providerId.get().equals(claim.getStatus().providerID()) || nodeName.equals(claim.getStatus().nodeName()))) {
        return NodeMarks.markNodeClaim(client, claim, notice) ? Optional.of(claim.getMetadata().getName()) : Optional.empty();
      }
    }
    return Optional.empty();
  }

  static Map<String, String> interruptionTaints(String action) {
    return Map.of(WellKnownLabels.DISRUPTED_TAINT, "", INTERRUPTION_TAINT, action);
  }
}
