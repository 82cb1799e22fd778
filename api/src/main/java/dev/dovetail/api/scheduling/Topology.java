package dev.dovetail.api.scheduling;

import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.ToIntFunction;

/**
 * Pods per topology domain for the required spread, affinity and anti-affinity terms of the pods being
 * scheduled: the running pods of the cluster plus those the simulation has placed. Terms are counted
 * lazily, the first time a pod asks about them, and kept up to date as pods are placed. For hostname
 * terms the counts are also kept as bit sets over the simulation's bins (its nodes and claims, numbered
 * by the scheduler), so a pod can leave out every bin its term rules out without looking at them.
 */
final class Topology {
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

  /** Levels of hostname counts kept as bit sets; terms that need more (a maxSkew beyond it) are not indexed. */
  private static final int LEVELS = 8;

  private final List<Placed> placed = new ArrayList<>();
  private final Domains domains;
  private final ToIntFunction<String> binOf;
  private final Map<TopologyTerm, Map<String, Integer>> counts = new HashMap<>();
  /** For hostname terms: levels.get(k) holds the bins with more than k counted pods. */
  private final Map<TopologyTerm, List<BitSet>> levels = new HashMap<>();

  /** @param binOf the scheduler's number for a host (a node's or claim's name), or -1 when it has none */
  Topology(List<Placed> existing, Domains domains, ToIntFunction<String> binOf) {
    placed.addAll(existing);
    this.domains = domains;
    this.binOf = binOf;
  }

  private Map<String, Integer> counts(TopologyTerm term) {
    Map<String, Integer> known = counts.get(term);
    if (known != null) {
      return known;
    }
    Map<String, Integer> c = new HashMap<>();
    for (Placed p : placed) {
      String domain = p.domains().get(term.topologyKey());
      if (domain != null && term.counts(p.namespace(), p.labels())) {
        c.merge(domain, 1, Integer::sum);
      }
    }
    counts.put(term, c);
    if (isHostname(term)) {
      List<BitSet> bits = new ArrayList<>();
      for (int k = 0; k < LEVELS; k++) {
        bits.add(new BitSet());
      }
      c.forEach((host, n) -> mark(bits, host, n));
      levels.put(term, bits);
    }
    return c;
  }

  private static boolean isHostname(TopologyTerm term) {
    return term.topologyKey().equals(WellKnownLabels.HOSTNAME);
  }

  private void mark(List<BitSet> bits, String host, int count) {
    int bin = binOf.applyAsInt(host);
    if (bin >= 0) {
      for (int k = 0; k < Math.min(count, LEVELS); k++) {
        bits.get(k).set(bin);
      }
    }
  }

  void record(SchedulingPod pod, Map<String, String> domains) {
    Placed p = new Placed(pod.namespace(), pod.labels(), domains);
    placed.add(p);
    for (Map.Entry<TopologyTerm, Map<String, Integer>> e : counts.entrySet()) {
      TopologyTerm term = e.getKey();
      String domain = domains.get(term.topologyKey());
      if (domain != null && term.counts(p.namespace(), p.labels())) {
        int n = e.getValue().merge(domain, 1, Integer::sum);
        List<BitSet> bits = levels.get(term);
        if (bits != null) {
          mark(bits, domain, n);
        }
      }
    }
  }

  /**
   * What the pod's non-hostname terms allow for this requirement alternative, with the counts as they
   * are now: for each such term (in order), the domains it allows. Skew is measured over the domains the
   * pod could use ({@link Domains}), as kube-scheduler measures it over the nodes matching the pod's node
   * selection, not only over the candidate's. The answer holds until the next {@link #record}.
   */
  Map<TopologyTerm, Set<String>> allowed(SchedulingPod pod, Requirements podRequirements) {
    Map<TopologyTerm, Set<String>> out = new LinkedHashMap<>();
    for (TopologyTerm term : pod.topology()) {
      if (isHostname(term)) {
        continue;
      }
      Requirement podAllows = podRequirements.get(term.topologyKey()).orElse(null);
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
      out.put(term, allowed);
    }
    return out;
  }

  /**
   * The requirements the pod's non-hostname terms put on a candidate: a single domain per topology key
   * (the least crowded one its term allows and the candidate can be in), or empty when there is none.
   */
  Optional<Requirements> requirements(Map<TopologyTerm, Set<String>> allowed, Requirements candidate) {
    Requirements out = Requirements.NONE;
    for (Map.Entry<TopologyTerm, Set<String>> e : allowed.entrySet()) {
      TopologyTerm term = e.getKey();
      Requirement candidateAllows = candidate.and(out).get(term.topologyKey()).orElse(null);
      Map<String, Integer> c = counts(term);
      Optional<String> chosen = e.getValue().stream().filter(d -> candidateAllows == null || candidateAllows.allows(d)).min((a, b) -> {
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

  /** {@link #requirements(Map, Requirements)} with what the terms allow now. */
  Optional<Requirements> requirements(SchedulingPod pod, Requirements podRequirements, Requirements candidate) {
    return requirements(allowed(pod, podRequirements), candidate);
  }

  /** Whether the pod's hostname terms allow it on a node or claim named {@code host}. */
  boolean allowsHost(SchedulingPod pod, String host) {
    for (TopologyTerm term : pod.topology()) {
      if (!isHostname(term)) {
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

  /**
   * Narrows {@code candidates} (bins) to those the pod's hostname terms could allow, without looking at
   * them one by one: bins whose counts already rule them out are cleared. Only clears bins
   * {@link #allowsHost} would refuse; what it cannot tell from the bit sets it leaves.
   */
  void narrowHosts(SchedulingPod pod, BitSet candidates) {
    for (TopologyTerm term : pod.topology()) {
      if (!isHostname(term)) {
        continue;
      }
      Map<String, Integer> c = counts(term);
      List<BitSet> bits = levels.get(term);
      boolean self = term.counts(pod.namespace(), pod.labels());
      switch (term.kind()) {
        case ANTI_AFFINITY -> candidates.andNot(bits.get(0));
        case SPREAD -> {
          // Refused where here + self > maxSkew, that is where more than maxSkew - self pods are counted.
          int level = term.maxSkew() - (self ? 1 : 0);
          if (level < 0) {
            candidates.clear();
          } else if (level < LEVELS) {
            candidates.andNot(bits.get(level));
          }
        }
        case AFFINITY -> {
          if (c.values().stream().anyMatch(n -> n > 0)) {
            candidates.and(bits.get(0));
          } else if (!self) {
            candidates.clear();
          }
        }
        default -> throw new IllegalStateException(term.kind().toString());
      }
    }
  }
}
