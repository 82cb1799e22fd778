package dev.dovetail.interruption;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.interruption.NodeMarks;
import dev.dovetail.interruption.kube.KubeApi;
import dev.dovetail.interruption.kube.KubeApiException;
import dev.dovetail.interruption.kube.PlainJson;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the agent does to its own node and its NodeClaim: the marks of {@link NodeMarks} (which the
 * provisioner's queue mode writes the same way with fabric8), sent on the agent's own client. Taints
 * and cordons the node (one merge patch guarded by the resource version, so a concurrent taint by the
 * kubelet or Karpenter is never lost; retried on conflict) and marks the NodeClaim so the provisioner
 * replaces the capacity at once.
 */
final class NodeActions {
  static final String INTERRUPTION_TAINT = DovetailLabels.SPOT_INTERRUPTION_TAINT;
  static final String REBALANCE_TAINT = DovetailLabels.REBALANCE_TAINT;
  static final String INTERRUPTION_ANNOTATION = NodeMarks.ANNOTATION;
  static final String NODE_CLAIMS = "/apis/karpenter.sh/v1/nodeclaims";
  private static final int ATTEMPTS = 5;

  private final KubeApi api;
  private final String nodeName;
  private final String nodePath;

  NodeActions(KubeApi api, String nodeName) {
    this.api = api;
    this.nodeName = nodeName;
    this.nodePath = "/api/v1/nodes/" + KubeApi.segment(nodeName);
  }

  Optional<JsonNode> node() {
    return api.get(nodePath);
  }

  /** Adds the taints (key → value, effect NoSchedule) that are missing and, if asked, cordons. */
  void taint(Map<String, String> taints, boolean cordon) {
    for (int attempt = 1; ; attempt++) {
      JsonNode node = node().orElseThrow(() -> new IllegalStateException("node " + nodeName + " does not exist"));
      Optional<JsonNode> patch = taintPatch(node, taints, cordon);
      if (patch.isEmpty()) {
        return;
      }
      try {
        api.patch(nodePath, KubeApi.MERGE_PATCH, patch.get());
        return;
      } catch (KubeApiException e) {
        if (e.notFound()) {
          throw new IllegalStateException("node " + nodeName + " does not exist");
        }
        if (!e.conflict() || attempt >= ATTEMPTS) {
          throw e;
        }
      }
    }
  }

  /** {@link NodeMarks#taintPatch} for the node as the API server returned it, as a JSON tree. */
  static Optional<JsonNode> taintPatch(JsonNode node, Map<String, String> taints, boolean cordon) {
    return NodeMarks.taintPatch(state(node), taints, cordon).map(PlainJson::tree);
  }

  /** The node as the taint patch reads it: its taints whole (timeAdded and all), cordoned or not, its version. */
  static NodeMarks.NodeState state(JsonNode node) {
    JsonNode spec = node.path("spec");
    List<Map<String, Object>> taints = new ArrayList<>();
    for (JsonNode t : spec.path("taints")) {
      taints.add(PlainJson.object(t));
    }
    return new NodeMarks.NodeState(taints, spec.path("unschedulable").asBoolean(false),
        node.path("metadata").path("resourceVersion").asText(null));
  }

  /**
   * Annotates the NodeClaim that launched this node (by provider ID or node name), if there is one; a
   * spot interruption is never replaced by a milder notice.
   */
  Optional<String> markNodeClaim(String notice) {
    Optional<String> providerId = node().map(n -> n.path("spec").path("providerID").asText(null));
    if (providerId.isEmpty()) {
      return Optional.empty();
    }
    for (JsonNode claim : api.list(NODE_CLAIMS)) {
      JsonNode status = claim.path("status");
      if (providerId.get().equals(status.path("providerID").asText(null)) || nodeName.equals(status.path("nodeName").asText(null))) {
        String name = claim.path("metadata").path("name").asText();
        String current = claim.path("metadata").path("annotations").path(INTERRUPTION_ANNOTATION).asText(null);
        if (NodeMarks.alreadyMarked(current, notice)) {
          return Optional.of(name);
        }
        try {
          api.patch(NODE_CLAIMS + "/" + KubeApi.segment(name), KubeApi.MERGE_PATCH, PlainJson.tree(NodeMarks.annotationPatch(notice)));
          return Optional.of(name);
        } catch (KubeApiException e) {
          if (e.notFound()) {
            return Optional.empty();
          }
          throw e;
        }
      }
    }
    return Optional.empty();
  }

  /**
   * The NodeClaim's {@link NodeMarks#REPLACEMENT_READY} annotation (the provisioner says its pods have Ready
   * room elsewhere), if the claim has it; empty when it has not or is gone.
   */
  Optional<String> replacementReady(String claim) {
    return api.get(NODE_CLAIMS + "/" + KubeApi.segment(claim))
        .map(c -> c.path("metadata").path("annotations").path(NodeMarks.REPLACEMENT_READY).asText(null));
  }
}
