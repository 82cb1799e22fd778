package dev.dovetail.provisioner.kube;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.dovetail.api.interruption.NodeMarks;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Writes the marks of an interruption ({@link NodeMarks}, which the per-node agent writes the same way on
 * its own client) with the fabric8 client: the taints and cordon on the node, the annotation on the
 * NodeClaim.
 */
public final class NodeMarker {
  private static final int ATTEMPTS = 5;
  private static final TypeReference<Map<String, Object>> JSON_OBJECT = new TypeReference<>() {
  };

  private NodeMarker() {
  }

  /**
   * Adds the NoSchedule taints (key to value) the node lacks and, if asked, cordons it: one merge patch
   * guarded by the resource version (so a concurrent taint by kwok, the kubelet or Karpenter is never
   * lost), retried on conflict. False when the node does not exist.
   */
  public static boolean taint(KubernetesClient client, String nodeName, Map<String, String> taints, boolean cordon) {
    for (int attempt = 1; ; attempt++) {
      Node node = client.nodes().withName(nodeName).get();
      if (node == null) {
        return false;
      }
      Optional<Map<String, Object>> patch = NodeMarks.taintPatch(state(node), taints, cordon);
      if (patch.isEmpty()) {
        return true;
      }
      try {
        client.nodes().withName(nodeName).patch(PatchContext.of(PatchType.JSON_MERGE), Serialization.asJson(patch.get()));
        return true;
      } catch (KubernetesClientException e) {
        if (e.getCode() == 404) {
          return false;
        }
        if (e.getCode() != 409 || attempt >= ATTEMPTS) {
          throw e;
        }
      }
    }
  }

  /** The node as the taint patch reads it: its taints whole, as JSON objects. */
  static NodeMarks.NodeState state(Node node) {
    List<Taint> taints = node.getSpec() == null || node.getSpec().getTaints() == null ? List.of() : node.getSpec().getTaints();
    return new NodeMarks.NodeState(taints.stream().map(t -> Serialization.unmarshal(Serialization.asJson(t), JSON_OBJECT)).toList(),
        node.getSpec() != null && Boolean.TRUE.equals(node.getSpec().getUnschedulable()), node.getMetadata().getResourceVersion());
  }

  /**
   * Annotates the claim with the notice, unless it already carries a spot interruption and the notice is
   * milder ({@link NodeMarks#alreadyMarked}). True when the claim carries this notice, or a stronger one,
   * afterwards; false when it is gone.
   */
  public static boolean markNodeClaim(KubernetesClient client, NodeClaim claim, String notice) {
    String current = claim.getMetadata().getAnnotations() == null ? null : claim.getMetadata().getAnnotations().get(NodeMarks.ANNOTATION);
    if (NodeMarks.alreadyMarked(current, notice)) {
      return true;
    }
    try {
      client.resources(NodeClaim.class).withName(claim.getMetadata().getName()).patch(PatchContext.of(PatchType.JSON_MERGE),
          Serialization.asJson(NodeMarks.annotationPatch(notice)));
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return false;
      }
      throw e;
    }
  }
}
