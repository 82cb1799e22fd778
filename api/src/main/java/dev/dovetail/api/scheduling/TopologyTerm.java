package dev.dovetail.api.scheduling;

import io.fabric8.kubernetes.api.model.LabelSelector;
import java.util.Map;
import java.util.Set;

/**
 * A required constraint between a pod and other pods over a topology key: a spread constraint
 * (DoNotSchedule), pod affinity or pod anti-affinity. {@code namespaces} empty means all namespaces.
 *
 * @param honorNodeAffinity a spread's {@code nodeAffinityPolicy}: only the domains of nodes matching the pod's node
 *     selection count ({@code Honor}, the default) or all ({@code Ignore})
 * @param honorNodeTaints a spread's {@code nodeTaintsPolicy}: only the domains of nodes whose taints the pod tolerates
 *     count ({@code Honor}) or all ({@code Ignore}, the default)
 */
public record TopologyTerm(Kind kind, String topologyKey, LabelSelector selector, Set<String> namespaces, int maxSkew,
    boolean honorNodeAffinity, boolean honorNodeTaints) {
  /** What the term demands. */
  public enum Kind { SPREAD, AFFINITY, ANTI_AFFINITY }

  public TopologyTerm {
    namespaces = Set.copyOf(namespaces);
  }

  /** A term with kube-scheduler's default policies (node affinity honoured, taints ignored). */
  public TopologyTerm(Kind kind, String topologyKey, LabelSelector selector, Set<String> namespaces, int maxSkew) {
    this(kind, topologyKey, selector, namespaces, maxSkew, true, false);
  }

  /** Whether a pod with these labels in this namespace is one the term counts. */
  public boolean counts(String namespace, Map<String, String> labels) {
    return (namespaces.isEmpty() || namespaces.contains(namespace)) && Selectors.matches(selector, labels);
  }
}
