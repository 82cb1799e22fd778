package dev.dovetail.api.scheduling;

import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * TEST REFERENCE: the simulation as it was before it was optimised for scale (a plain first-fit over
 * nodes, open claims and new claims, every check made in full), kept to check that the optimised
 * {@link Scheduler} gives the same answers. Do not optimise it.
 *
 * <p>* Pods per topology domain for the required spread, affinity and anti-affinity terms of the pods being
 * scheduled: the running pods of the cluster plus those the simulation has placed. Terms are counted
 * lazily, the first time a pod asks about them.
 */
final class ReferenceTopology {
  /** A pod somewhere: its namespace, labels and the domain labels (zone, hostname, capacity type) of its node. */
  record Placed(String namespace, Map<String, String> labels, Map<String, String> domains) {
  }

  /**
   * The domains of a topology key a pod could be placed in: those of the nodes it accepts and tolerates
   * and those the NodePools it is compatible with can launch into. Skew is measured over these only
   * (a zone no compatible pool offers is not a domain the pod could ever even out).
   */
  @FunctionalInterface
  interface Domains {
    Set<String> eligible(SchedulingPod pod, Requirements podRequirements, TopologyTerm term);
  }

  private final List<Placed> placed = new ArrayList<>();
  private final Domains domains;
  private final Map<TopologyTerm, Map<String, Integer>> counts = new HashMap<>();

  ReferenceTopology(List<Placed> existing, Domains domains) {
    placed.addAll(existing);
    this.domains = domains;
  }

  private Map<String, Integer> counts(TopologyTerm term) {
    return counts.computeIfAbsent(term, t -> {
      Map<String, Integer> c = new HashMap<>();
      for (Placed p : placed) {
        String domain = p.domains().get(t.topologyKey());
        if (domain != null && t.counts(p.namespace(), p.labels())) {
          c.merge(domain, 1, Integer::sum);
        }
      }
      return c;
    });
  }

  void record(SchedulingPod pod, Map<String, String> domains) {
    Placed p = new Placed(pod.namespace(), pod.labels(), domains);
    placed.add(p);
    for (Map.Entry<TopologyTerm, Map<String, Integer>> e : counts.entrySet()) {
      String domain = domains.get(e.getKey().topologyKey());
      if (domain != null && e.getKey().counts(p.namespace(), p.labels())) {
        e.getValue().merge(domain, 1, Integer::sum);
      }
    }
  }

  /**
   * The requirements the pod's non-hostname terms put on a candidate: a single domain per topology key
   * (the least crowded one the terms allow and the candidate can be in), or empty when there is none.
   * Skew is measured over the domains the pod could use ({@link Domains}), as kube-scheduler measures
   * it over the nodes matching the pod's node selection, not only over the candidate's.
   */
  Optional<Requirements> requirements(SchedulingPod pod, Requirements podRequirements, Requirements candidate) {
    Requirements out = Requirements.NONE;
    for (TopologyTerm term : pod.topology()) {
      if (term.topologyKey().equals(WellKnownLabels.HOSTNAME)) {
        continue;
      }
      Requirement podAllows = podRequirements.get(term.topologyKey()).orElse(null);
      Requirement candidateAllows = candidate.and(out).get(term.topologyKey()).orElse(null);
      Map<String, Integer> c = counts(term);
      Set<String> eligible = new TreeSet<>();
      for (String d : domains.eligible(pod, podRequirements, term)) {
        if (podAllows == null || podAllows.allows(d)) {
          eligible.add(d);
        }
      }
      Set<String> allowed = new TreeSet<>();
      switch (term.kind()) {
        case SPREAD -> {
          // The pod itself counts in a domain only if its own constraint selects it (as kube-scheduler counts).
          int self = term.counts(pod.namespace(), pod.labels()) ? 1 : 0;
          int min = eligible.stream().mapToInt(d -> c.getOrDefault(d, 0)).min().orElse(0);
          for (String d : eligible) {
            if (c.getOrDefault(d, 0) + self - min <= term.maxSkew()) {
              allowed.add(d);
            }
          }
        }
        case AFFINITY -> {
          boolean anyMatch = c.values().stream().anyMatch(n -> n > 0);
          for (String d : eligible) {
            if (c.getOrDefault(d, 0) > 0 || (!anyMatch && term.counts(pod.namespace(), pod.labels()))) {
              allowed.add(d);
            }
          }
        }
        case ANTI_AFFINITY -> {
          for (String d : eligible) {
            if (c.getOrDefault(d, 0) == 0) {
              allowed.add(d);
            }
          }
        }
        default -> throw new IllegalStateException(term.kind().toString());
      }
      Optional<String> chosen = allowed.stream().filter(d -> candidateAllows == null || candidateAllows.allows(d)).min((a, b) -> {
        int byCount = Integer.compare(c.getOrDefault(a, 0), c.getOrDefault(b, 0));
        return byCount != 0 ? byCount : a.compareTo(b);
      });
      if (chosen.isEmpty()) {
        return Optional.empty();
      }
      out = out.and(Requirement.in(term.topologyKey(), chosen.get()));
    }
    return Optional.of(out);
  }

  /** Whether the pod's hostname terms allow it on a node or claim named {@code host}. */
  boolean allowsHost(SchedulingPod pod, String host) {
    for (TopologyTerm term : pod.topology()) {
      if (!term.topologyKey().equals(WellKnownLabels.HOSTNAME)) {
        continue;
      }
      Map<String, Integer> c = counts(term);
      int here = c.getOrDefault(host, 0);
      boolean ok = switch (term.kind()) {
        case SPREAD -> here + (term.counts(pod.namespace(), pod.labels()) ? 1 : 0) <= term.maxSkew();
        case ANTI_AFFINITY -> here == 0;
        case AFFINITY -> here > 0 || (c.values().stream().noneMatch(n -> n > 0) && term.counts(pod.namespace(), pod.labels()));
      };
      if (!ok) {
        return false;
      }
    }
    return true;
  }
}
