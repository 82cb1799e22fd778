package dev.dovetail.state;

import dev.dovetail.api.distribution.PodFacts;
import dev.dovetail.api.distribution.RuleSet;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What each distribution rule governs right now: its workloads and where their running replicas are.
 * A pure summary of the view and the pods, shared by whoever reports it (the provisioner writes it to
 * the rules' status).
 */
public final class RuleStatus {
  private RuleStatus() {
  }

  /** One rule's share of the cluster. */
  public record Summary(Set<WorkloadKey> workloads, int spot, int onDemand, int fallback) {
    public static final Summary NONE = new Summary(Set.of(), 0, 0, 0);
  }

  /**
   * Counts every bound, live pod under a rule in force: spot replicas, on-demand replicas, and
   * replicas on on-demand fallback capacity (holding spot places). Pods exempt from rules (DaemonSet,
   * mirror, exempt namespace, own capacity-type selector) and pods on nodes of unknown capacity type are
   * left out of the replica counts; their workloads still count when governed.
   */
  public static Map<String, Summary> summarize(ClusterView view, Iterable<Pod> pods, Set<String> exemptNamespaces) {
    RuleSet rules = view.rules();
    Map<String, Set<WorkloadKey>> workloads = new HashMap<>();
    Map<String, int[]> counts = new HashMap<>();
    for (Pod pod : pods) {
      String node = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
      String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
      if (node == null || pod.getMetadata().getDeletionTimestamp() != null || "Succeeded".equals(phase) || "Failed".equals(phase)) {
        continue;
      }
      PodFacts facts = PodFacts.of(pod);
      if (facts.exemption(exemptNamespaces).isPresent()) {
        continue;
      }
      Optional<RuleSet.Entry> rule = rules.forNamespace(facts.namespace());
      if (rule.isEmpty()) {
        continue;
      }
      String name = rule.get().name();
      workloads.computeIfAbsent(name, k -> new HashSet<>()).add(view.workloadOf(facts).key());
      int[] c = counts.computeIfAbsent(name, k -> new int[3]);
      view.node(node).ifPresent(n -> n.capacityType().ifPresent(type -> {
        if (type.isSpot()) {
          c[0]++;
        } else if (n.fallback()) {
          c[2]++;
        } else {
          c[1]++;
        }
      }));
    }
    Map<String, Summary> out = new HashMap<>();
    workloads.forEach((name, keys) -> {
      int[] c = counts.get(name);
      out.put(name, new Summary(Set.copyOf(keys), c[0], c[1], c[2]));
    });
    return out;
  }
}
