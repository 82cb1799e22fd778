package dev.dovetail.runtime;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.TaintBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The marks an interruption leaves, shared by the per-node agent (IMDS) and the provisioner's queue
 * mode (SQS), so both react the same way: NoSchedule taints and a cordon on the node, and the
 * {@link DovetailLabels#INTERRUPTION} annotation on its NodeClaim, which makes the provisioner launch the
 * replacement at once. The annotation reads {@code <kind>@<instant>}.
 */
public final class NodeMarks {
  public static final String SPOT_INTERRUPTION = "spot-interruption";
  public static final String REBALANCE_RECOMMENDATION = "rebalance-recommendation";
  public static final String SCHEDULED_CHANGE = "scheduled-change";

  private NodeMarks() {
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
      List<Taint> current = node.getSpec() == null || node.getSpec().getTaints() == null ? List.of() : node.getSpec().getTaints();
      List<Taint> next = new ArrayList<>(current);
      taints.forEach((key, value) -> {
        if (current.stream().noneMatch(t -> key.equals(t.getKey()) && "NoSchedule".equals(t.getEffect()))) {
          next.add(new TaintBuilder().withKey(key).withValue(value).withEffect("NoSchedule").build());
        }
      });
      boolean cordoned = node.getSpec() != null && Boolean.TRUE.equals(node.getSpec().getUnschedulable());
      if (next.size() == current.size() && (cordoned || !cordon)) {
        return true;
      }
      Map<String, Object> spec = new HashMap<>(Map.of("taints", next));
      if (cordon) {
        spec.put("unschedulable", true);
      }
      try {
        client.nodes().withName(nodeName).patch(PatchContext.of(PatchType.JSON_MERGE), Serialization.asJson(Map.of(
            "metadata", Map.of("resourceVersion", node.getMetadata().getResourceVersion()), "spec", spec)));
        return true;
      } catch (KubernetesClientException e) {
        if (e.getCode() == 404) {
          return false;
        }
        if (e.getCode() != 409 || attempt >= 5) {
          throw e;
        }
      }
    }
  }

  /**
   * Annotates the claim with the notice, unless it already carries a spot interruption and the notice is
   * milder (a rebalance recommendation often arrives with or after the interruption warning). True when
   * the claim carries this notice, or a stronger one, afterwards.
   */
  public static boolean markNodeClaim(KubernetesClient client, NodeClaim claim, String notice) {
    String current = claim.getMetadata().getAnnotations() == null ? null : claim.getMetadata().getAnnotations().get(DovetailLabels.INTERRUPTION);
    if (alreadyMarked(current, notice)) {
      return true;
    }
    try {
      client.resources(NodeClaim.class).withName(claim.getMetadata().getName()).patch(PatchContext.of(PatchType.JSON_MERGE),
          Serialization.asJson(Map.of("metadata", Map.of("annotations", Map.of(DovetailLabels.INTERRUPTION, notice)))));
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return false;
      }
      throw e;
    }
  }

  /**
   * Whether a claim whose {@link DovetailLabels#INTERRUPTION} annotation is {@code current} (null: none)
   * keeps it for {@code notice}: it says the same, or it is a spot interruption and the notice milder.
   */
  public static boolean alreadyMarked(String current, String notice) {
    return notice.equals(current) || current != null && current.startsWith(SPOT_INTERRUPTION) && !notice.startsWith(SPOT_INTERRUPTION);
  }

  /** The annotation value for a notice of this kind about this instant. */
  public static String notice(String kind, Instant at) {
    return kind + "@" + at;
  }

  /** When a spot-interruption annotation says the instance goes away, if it says so. */
  public static Optional<Instant> interruptionTime(String annotation) {
    if (annotation == null || !annotation.startsWith(SPOT_INTERRUPTION + "@")) {
      return Optional.empty();
    }
    try {
      return Optional.of(Instant.parse(annotation.substring(SPOT_INTERRUPTION.length() + 1)));
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }
}
