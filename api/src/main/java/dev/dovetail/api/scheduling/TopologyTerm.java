package dev.dovetail.api.scheduling;

import io.fabric8.kubernetes.api.model.LabelSelector;
import java.util.Map;
import java.util.Set;

/**
 * A required constraint between a pod and other pods over a topology key: a spread constraint
 * (DoNotSchedule), pod affinity or pod anti-affinity. {@code namespaces} empty means all namespaces.
 */
public record TopologyTerm(Kind kind, String topologyKey, LabelSelector selector, Set<String> namespaces, int maxSkew) {
  /** What the term demands. */
  public enum Kind { SPREAD, AFFINITY, ANTI_AFFINITY }

  public TopologyTerm {
    namespaces = Set.copyOf(namespaces);
  }

  /** Whether a pod with these labels in this namespace is one the term counts. */
  public boolean counts(String namespace, Map<String, String> labels) {
    return (namespaces.isEmpty() || namespaces.contains(namespace)) && Selectors.matches(selector, labels);
  }
}
