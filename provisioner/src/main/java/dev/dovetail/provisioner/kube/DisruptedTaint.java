package dev.dovetail.provisioner.kube;

import dev.dovetail.api.karpenter.v1.WellKnownTaints;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.TaintBuilder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Karpenter's {@code karpenter.sh/disrupted:NoSchedule} taint: on a node being disrupted (a command's
 * candidate waiting for its replacements, or a node being terminated) so nothing new lands there. Each
 * write is a merge patch of the whole taint list guarded by the node's resource version, so a taint
 * someone else wrote meanwhile is never lost (the write fails with a conflict instead and is tried again
 * later from the cache).
 */
public final class DisruptedTaint {
  /** Set by termination, as Karpenter does, so load balancers stop sending traffic to a draining node. */
  public static final String EXCLUDE_LB_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers";

  private DisruptedTaint() {
  }

  public static boolean present(Node node) {
    return taints(node).stream().anyMatch(t -> WellKnownTaints.DISRUPTED.equals(t.getKey()) && "NoSchedule".equals(t.getEffect()));
  }

  /** Adds the taint (and, for termination, the load-balancer exclusion label) unless the node has them; true when it wrote. */
  public static boolean add(Writer writer, Node node, boolean excludeFromLoadBalancers) {
    Map<String, String> labels = node.getMetadata().getLabels() == null ? Map.of() : node.getMetadata().getLabels();
    boolean tainted = present(node);
    if (tainted && (!excludeFromLoadBalancers || "karpenter".equals(labels.get(EXCLUDE_LB_LABEL)))) {
      return false;
    }
    List<Taint> next = new ArrayList<>(taints(node));
    if (!tainted) {
      next.add(new TaintBuilder().withKey(WellKnownTaints.DISRUPTED).withEffect("NoSchedule").build());
    }
    Map<String, Object> metadata = new HashMap<>();
    metadata.put("resourceVersion", node.getMetadata().getResourceVersion());
    if (excludeFromLoadBalancers) {
      metadata.put("labels", Map.of(EXCLUDE_LB_LABEL, "karpenter"));
    }
    writer.mergePatch(Node.class, node.getMetadata().getName(), Map.of("metadata", metadata, "spec", Map.of("taints", next)));
    return true;
  }

  /** Takes the taint off again (a command abandoned, or a stale taint of one that was lost); true when it wrote. */
  public static boolean remove(Writer writer, Node node) {
    if (!present(node)) {
      return false;
    }
    List<Taint> next = taints(node).stream().filter(t -> !WellKnownTaints.DISRUPTED.equals(t.getKey())).toList();
    writer.mergePatch(Node.class, node.getMetadata().getName(),
        Map.of("metadata", Map.of("resourceVersion", node.getMetadata().getResourceVersion()), "spec", Map.of("taints", next)));
    return true;
  }

  private static List<Taint> taints(Node node) {
    return node.getSpec() == null || node.getSpec().getTaints() == null ? List.of() : node.getSpec().getTaints();
  }
}
