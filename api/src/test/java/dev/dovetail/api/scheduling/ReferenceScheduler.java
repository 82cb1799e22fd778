package dev.dovetail.api.scheduling;

import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import io.fabric8.kubernetes.api.model.Taint;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * TEST REFERENCE: the simulation as it was before it was optimised for scale (a plain first-fit over
 * nodes, open claims and new claims, every check made in full), kept to check that the optimised
 * {@link Scheduler} gives the same answers. Do not optimise it.
 *
 * <p>* The provisioning simulation: places pending pods, largest first, on running and in-flight nodes,
 * then on claims opened earlier in this simulation, then on new claims from the heaviest NodePool that
 * fits. A claim keeps every instance type that still fits all its pods; the cheapest is launched.
 *
 * <p>Pure and deterministic for a given input: every {@link #solve} simulates on its own copies of the
 * nodes, so the {@link SimNode}s given (and everything else given) are left as they were, and solving
 * again, with this scheduler or another over the same nodes, gives the same answer. Fast for many
 * identical pods: what a pod shape cannot use (a node with an untolerated taint, a full claim) is
 * remembered, because nodes and claims only fill up as the simulation goes.
 */
public final class ReferenceScheduler {
  /** Copies of the nodes given; only the scheduler a {@link #solve} makes for itself places pods on (and fills) them. */
  private final List<SimNode> nodes;
  private final List<ClaimTemplate> templates;
  private final List<Scheduler.Placed> existingPods;
  private final ReferenceTopology topology;
  private final int maxTypesPerClaim;
  private final Map<ClaimTemplate, Resources> remainingLimits = new HashMap<>();
  private final Map<ClaimTemplate, Integer> remainingNodes = new HashMap<>();
  private final Map<ClaimTemplate, Requirements> templateDomains = new HashMap<>();
  private final Map<DomainQuery, Set<String>> domainCache = new HashMap<>();

  private final List<OpenClaim> claims = new ArrayList<>();
  private final Map<String, String> onNodes = new LinkedHashMap<>();
  private final Map<String, Unschedulable> unschedulable = new LinkedHashMap<>();
  /** Per pod shape and requirement alternative: nodes and claims it can never use (they only fill up). */
  private final Map<Attempt, BitSet> nodesRuledOut = new HashMap<>();
  private final Map<Attempt, BitSet> claimsRuledOut = new HashMap<>();

  private record Attempt(SchedulingPod.Shape shape, Requirements requirements) {
  }

  /**
   * @param nodes running nodes and in-flight claims, in the order they are tried
   * @param templates one per NodePool that may launch
   * @param existingPods running pods, for topology spread and pod (anti-)affinity
   * @param maxTypesPerClaim instance types kept on each new claim for launch flexibility (60, like Karpenter's launches)
   */
  public ReferenceScheduler(List<SimNode> nodes, List<ClaimTemplate> templates, List<Scheduler.Placed> existingPods, int maxTypesPerClaim) {
    this.nodes = nodes.stream().map(SimNode::copy).toList();
    this.templates = templates.stream().sorted(ClaimTemplate.BY_WEIGHT).toList();
    this.existingPods = List.copyOf(existingPods);
    this.maxTypesPerClaim = maxTypesPerClaim;
    for (ClaimTemplate t : this.templates) {
      remainingLimits.put(t, t.remainingLimits());
      remainingNodes.put(t, t.remainingLimits() == null || !t.remainingLimits().amounts().containsKey("nodes")
          ? Integer.MAX_VALUE : (int) t.remainingLimits().get("nodes"));
    }
    List<ReferenceTopology.Placed> placed = new ArrayList<>();
    for (Scheduler.Placed p : existingPods) {
      placed.add(new ReferenceTopology.Placed(p.namespace(), p.labels(), p.nodeLabels()));
    }
    this.topology = new ReferenceTopology(placed, this::eligibleDomains);
  }

  private record DomainQuery(SchedulingPod.Shape shape, Requirements requirements, String key, boolean affinity, boolean taints) {
  }

  /** Domains of the term's key skew is measured over (node affinity honoured unless Ignore, taints only if Honor). */
  private Set<String> eligibleDomains(SchedulingPod pod, Requirements alt, TopologyTerm term) {
    String key = term.topologyKey();
    return domainCache.computeIfAbsent(new DomainQuery(pod.shape(), alt, key, term.honorNodeAffinity(), term.honorNodeTaints()), q -> {
      Set<String> out = new TreeSet<>();
      for (SimNode n : nodes) {
        if ((term.honorNodeTaints() && Tolerations.firstUntolerated(pod.tolerations(), n.taints()).isPresent())
            || (term.honorNodeAffinity() && !n.accepts(alt))) {
          continue;
        }
        String v = n.labels().get(key);
        if (v != null) {
          out.add(v);
        } else {
          n.requirements().get(key).filter(r -> !r.complement()).ifPresent(r -> out.addAll(r.values()));
        }
      }
      for (ClaimTemplate t : templates) {
        if ((term.honorNodeTaints() && Tolerations.firstUntolerated(pod.tolerations(), t.taints()).isPresent())
            || (term.honorNodeAffinity() && t.requirements().compatible(alt).isPresent())) {
          continue;
        }
        Requirements offered = templateDomains.computeIfAbsent(t, k -> new ReferenceOptionSet(k.options()).offeredDomains(k.requirements()));
        Optional<Requirement> r = offered.get(key).or(() -> t.requirements().get(key));
        r.filter(x -> !x.complement()).ifPresent(x -> out.addAll(x.values()));
      }
      return out;
    });
  }

  /**
   * Places the pods. Each call is a simulation of its own, on fresh copies of the nodes: nothing of an
   * earlier call (placements, claims, limits used) carries over.
   */
  public Solution solve(List<SchedulingPod> pods) {
    return new ReferenceScheduler(nodes, templates, existingPods, maxTypesPerClaim).simulate(pods);
  }

  private Solution simulate(List<SchedulingPod> pods) {
    for (SchedulingPod pod : SchedulingPod.packingOrder(pods)) {
      place(pod).ifPresent(reason -> unschedulable.put(pod.uid(), reason));
    }
    List<NewClaim> out = new ArrayList<>();
    for (OpenClaim c : claims) {
      out.add(c.toNewClaim(maxTypesPerClaim));
    }
    return new Solution(onNodes, out, unschedulable);
  }

  private Optional<Unschedulable> place(SchedulingPod pod) {
    List<Requirements> attempts = new ArrayList<>();
    if (!pod.preferred().keys().isEmpty()) {
      for (Requirements alt : pod.alternatives()) {
        attempts.add(alt.and(pod.preferred()));
      }
    }
    attempts.addAll(pod.alternatives());
    Unschedulable reason = new Unschedulable.NoNodePool(false);
    for (Requirements alt : attempts) {
      if (alt.all().stream().anyMatch(Requirement::isEmpty)) {
        reason = new Unschedulable.Contradiction(alt);
        continue;
      }
      if (placeOnNode(pod, alt) || placeOnOpenClaim(pod, alt)) {
        return Optional.empty();
      }
      Optional<Unschedulable> why = openClaim(pod, alt);
      if (why.isEmpty()) {
        return Optional.empty();
      }
      reason = why.get();
    }
    return Optional.of(reason);
  }

  private boolean placeOnNode(SchedulingPod pod, Requirements alt) {
    if (nodes.isEmpty()) {
      return false;
    }
    boolean constrained = !pod.topology().isEmpty();
    BitSet ruledOut = nodesRuledOut.computeIfAbsent(new Attempt(pod.shape(), alt), k -> new BitSet(nodes.size()));
    for (int i = ruledOut.nextClearBit(0); i < nodes.size(); i = ruledOut.nextClearBit(i + 1)) {
      SimNode node = nodes.get(i);
      // Requests only grow, taints and labels do not change: these rejections are final for this shape.
      if (!pod.requests().fitsWith(node.requested(), node.allocatable())
          || Tolerations.firstUntolerated(pod.tolerations(), node.taints()).isPresent() || !node.accepts(alt)
          || !node.portsFree(pod.hostPorts())) {
        ruledOut.set(i);
        continue;
      }
      if (constrained) {
        Optional<Requirements> topo = topology.requirements(pod, alt, node.requirements());
        if (topo.isEmpty() || !node.accepts(topo.get()) || !topology.allowsHost(pod, node.name())) {
          continue;
        }
      }
      node.add(pod);
      topology.record(pod, domains(node.labels(), node.name()));
      onNodes.put(pod.uid(), node.name());
      return true;
    }
    return false;
  }

  private boolean placeOnOpenClaim(SchedulingPod pod, Requirements alt) {
    BitSet ruledOut = claimsRuledOut.computeIfAbsent(new Attempt(pod.shape(), alt), k -> new BitSet());
    for (int i = ruledOut.nextClearBit(0); i < claims.size(); i = ruledOut.nextClearBit(i + 1)) {
      Fit fit = claims.get(i).tryAdd(pod, alt);
      if (fit == Fit.ADDED) {
        return true;
      }
      if (fit == Fit.NEVER) {
        ruledOut.set(i);
      }
    }
    return false;
  }

  private Optional<Unschedulable> openClaim(SchedulingPod pod, Requirements alt) {
    if (templates.isEmpty()) {
      return Optional.of(new Unschedulable.NoNodePool(true));
    }
    List<Unschedulable.PoolRejection> reasons = new ArrayList<>();
    for (ClaimTemplate t : templates) {
      if (remainingNodes.get(t) <= 0) {
        reasons.add(new Unschedulable.NodesLimit(t.nodePool()));
        continue;
      }
      Optional<Taint> untolerated = Tolerations.firstUntolerated(pod.tolerations(), t.taints());
      if (untolerated.isPresent()) {
        reasons.add(new Unschedulable.Untolerated(t.nodePool(), untolerated.get()));
        continue;
      }
      Optional<Requirements.Conflict> conflict = t.requirements().compatible(alt);
      if (conflict.isPresent()) {
        reasons.add(new Unschedulable.Incompatible(t.nodePool(), conflict.get()));
        continue;
      }
      Requirements merged = t.requirements().and(alt);
      String id = "new-" + claims.size();
      if (!pod.topology().isEmpty()) {
        Requirements offered = templateDomains.computeIfAbsent(t, k -> new ReferenceOptionSet(k.options()).offeredDomains(k.requirements()));
        Optional<Requirements> topo = topology.requirements(pod, alt, merged.and(offered));
        if (topo.isEmpty() || !topology.allowsHost(pod, id)) {
          reasons.add(new Unschedulable.NoTopologyDomain(t.nodePool()));
          continue;
        }
        merged = merged.and(topo.get());
      }
      Resources total = t.daemonOverhead().plus(pod.requests());
      Resources limits = remainingLimits.get(t);
      List<InstanceOption> fitting = new ArrayList<>();
      boolean limited = false;
      for (InstanceOption o : t.options()) {
        if (!total.fitsIn(o.allocatable()) || !o.requirements().intersects(merged) || !o.offerable(merged)) {
          continue;
        }
        if (limits != null && !withinLimits(o, limits)) {
          limited = true;
          continue;
        }
        fitting.add(o);
      }
      if (fitting.isEmpty()) {
        reasons.add(new Unschedulable.NoFittingType(t.nodePool(), limited, pod.requests(), t.daemonOverhead(), alt));
        continue;
      }
      Optional<Unschedulable.MinValuesUnmet> minValues = minValuesUnmet(t.nodePool(), merged, fitting);
      if (minValues.isPresent()) {
        reasons.add(minValues.get());
        continue;
      }
      OpenClaim claim = new OpenClaim(id, t, merged, fitting, total);
      claim.commit(pod, alt, merged, total);
      reserve(t, fitting);
      claims.add(claim);
      return Optional.empty();
    }
    return Optional.of(new Unschedulable.Rejected(reasons));
  }

  private static boolean withinLimits(InstanceOption o, Resources limits) {
    for (Map.Entry<String, Long> e : limits.amounts().entrySet()) {
      if (!e.getKey().equals("nodes") && o.capacity().get(e.getKey()) > e.getValue()) {
        return false;
      }
    }
    return true;
  }

  /** A new claim may become any of its options: hold the largest against the pool's limits (Karpenter's rule). */
  private void reserve(ClaimTemplate t, List<InstanceOption> options) {
    remainingNodes.computeIfPresent(t, (k, n) -> n == Integer.MAX_VALUE ? n : n - 1);
    Resources limits = remainingLimits.get(t);
    if (limits == null) {
      return;
    }
    Map<String, Long> largest = new TreeMap<>();
    for (InstanceOption o : options) {
      for (String k : limits.amounts().keySet()) {
        largest.merge(k, o.capacity().get(k), Math::max);
      }
    }
    largest.remove("nodes");
    remainingLimits.put(t, limits.minus(new Resources(largest)));
  }

  private static Optional<Unschedulable.MinValuesUnmet> minValuesUnmet(String nodePool, Requirements requirements, List<InstanceOption> options) {
    for (Requirement r : requirements.all()) {
      OptionalInt min = r.minValues();
      if (min.isEmpty()) {
        continue;
      }
      Set<String> distinct = new HashSet<>();
      for (InstanceOption o : options) {
        o.requirements().get(r.key()).ifPresent(v -> distinct.addAll(v.values()));
      }
      if (distinct.size() < min.getAsInt()) {
        return Optional.of(new Unschedulable.MinValuesUnmet(nodePool, r.key(), distinct.size(), min.getAsInt()));
      }
    }
    return Optional.empty();
  }

  private static boolean hasMinValues(Requirements requirements) {
    for (Requirement r : requirements.all()) {
      if (r.minValues().isPresent()) {
        return true;
      }
    }
    return false;
  }

  private static Map<String, String> domains(Map<String, String> labels, String host) {
    Map<String, String> d = new HashMap<>(labels);
    d.put(WellKnownLabels.HOSTNAME, host);
    return d;
  }

  /** Result of offering a pod to a claim. NEVER: this shape will never fit this claim again. */
  private enum Fit { ADDED, NOT_NOW, NEVER }

  /** A claim opened in this simulation. */
  private final class OpenClaim {
    private final String id;
    private final ClaimTemplate template;
    private Requirements requirements;
    private final ReferenceOptionSet options;
    private Resources requests;
    private final List<String> pods = new ArrayList<>();
    private final Set<String> hostPorts = new HashSet<>();
    private final Set<Requirements> merged = new HashSet<>();
    /** Where the claim can still land (zones, capacity types), for topology; recomputed when options change. */
    private Requirements domains;

    OpenClaim(String id, ClaimTemplate template, Requirements requirements, List<InstanceOption> options, Resources requests) {
      this.id = id;
      this.template = template;
      this.requirements = requirements;
      this.options = new ReferenceOptionSet(options);
      this.requests = requests;
    }

    /**
     * Offers a pod. NEVER covers what cannot change for this pod shape (taints, ports, requirements,
     * resources: the claim only fills up and narrows); NOT_NOW what topology counts may change.
     */
    Fit tryAdd(SchedulingPod pod, Requirements alt) {
      if (Tolerations.firstUntolerated(pod.tolerations(), template.taints()).isPresent()) {
        return Fit.NEVER;
      }
      for (String p : pod.hostPorts()) {
        if (hostPorts.contains(p)) {
          return Fit.NEVER;
        }
      }
      boolean newRequirements = !merged.contains(alt);
      if (newRequirements && requirements.compatible(alt).isPresent()) {
        return Fit.NEVER;
      }
      Resources total = requests.plus(pod.requests());
      if (options.count(total, null) == 0) {
        return Fit.NEVER;
      }
      boolean constrained = !pod.topology().isEmpty();
      Requirements next = newRequirements ? requirements.and(alt) : requirements;
      if (constrained) {
        if (domains == null) {
          domains = options.offeredDomains(requirements);
        }
        Optional<Requirements> topo = topology.requirements(pod, alt, next.and(domains));
        if (topo.isEmpty() || !topology.allowsHost(pod, id)) {
          return Fit.NOT_NOW;
        }
        next = next.and(topo.get());
        if (next.all().stream().anyMatch(Requirement::isEmpty)) {
          return Fit.NOT_NOW;
        }
      }
      Requirements changed = next.equals(requirements) ? null : next;
      if (options.count(total, changed) == 0) {
        return constrained ? Fit.NOT_NOW : Fit.NEVER;
      }
      if (hasMinValues(next)) {
        List<InstanceOption> remaining = new ArrayList<>();
        for (InstanceOption o : options.list()) {
          if (total.fitsIn(o.allocatable()) && (changed == null || (o.requirements().intersects(next) && o.offerable(next)))) {
            remaining.add(o);
          }
        }
        if (minValuesUnmet(template.nodePool(), next, remaining).isPresent()) {
          return constrained ? Fit.NOT_NOW : Fit.NEVER;
        }
      }
      int before = options.size();
      options.retain(total, changed);
      if (options.size() != before || changed != null) {
        domains = null;
      }
      commit(pod, alt, next, total);
      return Fit.ADDED;
    }

    void commit(SchedulingPod pod, Requirements alt, Requirements next, Resources total) {
      requirements = next;
      requests = total;
      pods.add(pod.uid());
      hostPorts.addAll(pod.hostPorts());
      merged.add(alt);
      topology.record(pod, domains(requirements.singleValues(), id));
    }

    NewClaim toNewClaim(int maxTypes) {
      Requirements r = requirements;
      List<InstanceOption> cheapest = options.list().stream()
          .sorted(Comparator.comparingDouble((InstanceOption o) -> o.cheapestPrice(r)).thenComparing(InstanceOption::name))
          .limit(maxTypes).toList();
      return new NewClaim(template, requirements, cheapest, requests, pods);
    }
  }
}
