package dev.dovetail.interruption;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.interruption.kube.KubeApi;
import dev.dovetail.interruption.kube.KubeApiException;
import dev.dovetail.runtime.NodeMarks;
import java.util.Map;
import java.util.Optional;

/**
 * What the agent does to its own node and its NodeClaim, as dev.dovetail.runtime.NodeMarks does it for
 * the provisioner's queue mode: taints and cordons the node (one merge patch guarded by the resource
 * version, so a concurrent taint by the kubelet or Karpenter is never lost; retried on conflict) and
 * marks the NodeClaim so the provisioner replaces the capacity at once.
 */
final class NodeActions {
  static final String INTERRUPTION_TAINT = DovetailLabels.SPOT_INTERRUPTION_TAINT;
  static final String REBALANCE_TAINT = DovetailLabels.REBALANCE_TAINT;
  static final String INTERRUPTION_ANNOTATION = DovetailLabels.INTERRUPTION;
  static final String SPOT_INTERRUPTION = NodeMarks.SPOT_INTERRUPTION;
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
      Optional<ObjectNode> patch = taintPatch(node, taints, cordon);
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

  /**
   * The merge patch that adds the NoSchedule taints the node lacks (by key) and, if asked, cordons it,
   * carrying the node's resource version so the API server refuses it (409) if the node changed since it
   * was read; empty when there is nothing to change. The taint list is replaced whole by a merge patch, so
   * it holds the node's current taints as read, untouched.
   */
  static Optional<ObjectNode> taintPatch(JsonNode node, Map<String, String> taints, boolean cordon) {
    JsonNode spec = node.path("spec");
    JsonNode current = spec.path("taints");
    ArrayNode next = JsonNodeFactory.instance.arrayNode();
    if (current.isArray()) {
      next.addAll((ArrayNode) current);
    }
    int before = next.size();
    taints.forEach((key, value) -> {
      boolean present = false;
      for (JsonNode t : current) {
        present |= key.equals(t.path("key").asText(null)) && "NoSchedule".equals(t.path("effect").asText(null));
      }
      if (!present) {
        next.addObject().put("key", key).put("value", value).put("effect", "NoSchedule");
      }
    });
    boolean cordoned = spec.path("unschedulable").asBoolean(false);
    if (next.size() == before && (cordoned || !cordon)) {
      return Optional.empty();
    }
    ObjectNode patch = JsonNodeFactory.instance.objectNode();
    patch.putObject("metadata").put("resourceVersion", node.path("metadata").path("resourceVersion").asText());
    ObjectNode specPatch = patch.putObject("spec");
    specPatch.set("taints", next);
    if (cordon) {
      specPatch.put("unschedulable", true);
    }
    return Optional.of(patch);
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
          api.patch(NODE_CLAIMS + "/" + KubeApi.segment(name), KubeApi.MERGE_PATCH, annotationPatch(INTERRUPTION_ANNOTATION, notice));
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

  static ObjectNode annotationPatch(String key, String value) {
    ObjectNode patch = JsonNodeFactory.instance.objectNode();
    patch.putObject("metadata").putObject("annotations").put(key, value);
    return patch;
  }

  static Map<String, String> interruptionTaints(String action) {
    return Map.of(WellKnownLabels.DISRUPTED_TAINT, "", INTERRUPTION_TAINT, action);
  }
}
