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
 * The provisioning simulation: places pending pods, largest first, on running and in-flight nodes,
 * then on claims opened earlier in this simulation, then on new claims from the heaviest NodePool that
 * fits. A claim keeps every instance type that still fits all its pods; the cheapest is launched.
 *
 * <p>Pure and deterministic for a given input, and fast for many identical pods: what a pod shape
 * cannot use (a node with an untolerated taint, a full claim) is remembered, because nodes and claims
 * only fill up as the simulation goes.
 */
public final class Scheduler {
  private final List<SimNode> nodes;
  private final List<ClaimTemplate> templates;
  private final Topology topology;
  private final int maxTypesPerClaim;
  private final Map<ClaimTemplate, Resources> remainingLimits = new HashMap<>();
  private final Map<ClaimTemplate, Integer> remainingNodes = new HashMap<>();

  private final List<OpenClaim> claims = new ArrayList<>();
  private final Map<String, String> onNodes = new LinkedHashMap<>();
  private final Map<String, String> unschedulable = new LinkedHashMap<>();
  /** Per pod shape and requirement alternative: nodes it can never use, and the first claim that may still take it. */
  private final Map<Attempt, BitSet> nodesRuledOut = new HashMap<>();
  private final Map<Attempt, Integer> claimCursor = new HashMap<>();

  private record Attempt(SchedulingPod.Shape shape, Requirements requirements) {
  }

  /**
   * @param nodes running nodes and in-flight claims, in the order they are tried
   * @param templates one per NodePool that may launch
   * @param existingPods running pods, for topology spread and pod (anti-)affinity
   * @param maxTypesPerClaim instance types kept on each new claim for launch flexibility (60, like Karpenter's launches)
   */
  public Scheduler(List<SimNode> nodes, List<ClaimTemplate> templates, List<Placed> existingPods, int maxTypesPerClaim) {
    this.nodes = List.copyOf(nodes);
    this.templates = templates.stream().sorted(ClaimTemplate.BY_WEIGHT).toList();
    this.maxTypesPerClaim = maxTypesPerClaim;
    Map<String, Set<String>> universe = new HashMap<>();
    for (ClaimTemplate t : this.templates) {
      remainingLimits.put(t, t.remainingLimits());
      remainingNodes.put(t, t.remainingLimits() == null || !t.remainingLimits().amounts().containsKey("nodes")
          ? Integer.MAX_VALUE : (int) t.remainingLimits().get("nodes"));
      for (InstanceOption o : t.options()) {
        for (Offering off : o.offerings()) {
          universe.computeIfAbsent(WellKnownLabels.ZONE, k -> new TreeSet<>()).add(off.zone());
          universe.computeIfAbsent(WellKnownLabels.CAPACITY_TYPE, k -> new TreeSet<>()).add(off.capacityType().label());
        }
      }
    }
    List<Topology.Placed> placed = new ArrayList<>();
    for (SimNode n : this.nodes) {
      n.labels().forEach((k, v) -> universe.computeIfAbsent(k, x -> new TreeSet<>()).add(v));
    }
    for (Placed p : existingPods) {
      placed.add(new Topology.Placed(p.namespace(), p.labels(), p.nodeLabels()));
    }
    this.topology = new Topology(placed, universe);
  }

  /** A pod already running somewhere, with the labels of its node (zone, hostname, capacity type). */
  public record Placed(String namespace, Map<String, String> labels, Map<String, String> nodeLabels) {
  }

  public Solution solve(List<SchedulingPod> pods) {
    List<SchedulingPod> ordered = new ArrayList<>(pods);
    ordered.sort(SchedulingPod.PACKING_ORDER);
    for (SchedulingPod pod : ordered) {
      place(pod).ifPresent(reason -> unschedulable.put(pod.uid(), reason));
    }
    List<NewClaim> out = new ArrayList<>();
    for (OpenClaim c : claims) {
      out.add(c.toNewClaim(maxTypesPerClaim));
    }
    return new Solution(onNodes, out, unschedulable);
  }

  private Optional<String> place(SchedulingPod pod) {
    List<Requirements> attempts = new ArrayList<>();
    if (!pod.preferred().keys().isEmpty()) {
      for (Requirements alt : pod.alternatives()) {
        attempts.add(alt.and(pod.preferred()));
      }
    }
    attempts.addAll(pod.alternatives());
    String reason = "no NodePool can launch a node for it";
    for (Requirements alt : attempts) {
      if (alt.all().stream().anyMatch(Requirement::isEmpty)) {
        reason = "its requirements contradict each other: " + alt;
        continue;
      }
      if (placeOnNode(pod, alt) || placeOnOpenClaim(pod, alt)) {
        return Optional.empty();
      }
      Optional<String> why = openClaim(pod, alt);
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
    boolean constrained = !pod.topology().isEmpty();
    Attempt key = new Attempt(pod.shape(), alt);
    int start = constrained ? 0 : claimCursor.getOrDefault(key, 0);
    for (int i = start; i < claims.size(); i++) {
      OpenClaim claim = claims.get(i);
      Fit fit = claim.tryAdd(pod, alt);
      if (fit == Fit.ADDED) {
        if (!constrained) {
          claimCursor.put(key, i);
        }
        return true;
      }
      if (fit == Fit.NEVER && !constrained && i == start) {
        start = i + 1;
        claimCursor.put(key, start);
      }
    }
    return false;
  }

  private Optional<String> openClaim(SchedulingPod pod, Requirements alt) {
    if (templates.isEmpty()) {
      return Optional.of("no NodePool is ready to launch nodes");
    }
    List<String> reasons = new ArrayList<>();
    for (ClaimTemplate t : templates) {
      if (remainingNodes.get(t) <= 0) {
        reasons.add("NodePool " + t.nodePool() + " reached its nodes limit");
        continue;
      }
      Optional<Taint> untolerated = Tolerations.firstUntolerated(pod.tolerations(), t.taints());
      if (untolerated.isPresent()) {
        Taint x = untolerated.get();
        reasons.add("did not tolerate taint " + x.getKey() + (x.getValue() == null ? "" : "=" + x.getValue()) + ":" + x.getEffect()
            + " of NodePool " + t.nodePool());
        continue;
      }
      Optional<String> conflict = t.requirements().compatible(alt);
      if (conflict.isPresent()) {
        reasons.add("NodePool " + t.nodePool() + ": " + conflict.get());
        continue;
      }
      Requirements merged = t.requirements().and(alt);
      String id = "new-" + claims.size();
      if (!pod.topology().isEmpty()) {
        Optional<Requirements> topo = topology.requirements(pod, alt, merged);
        if (topo.isEmpty() || !topology.allowsHost(pod, id)) {
          reasons.add("NodePool " + t.nodePool() + ": no topology domain satisfies its spread or affinity constraints");
          continue;
        }
        merged = merged.and(topo.get());
      }
      Resources total = t.daemonOverhead().plus(pod.requests());
      Resources limits = remainingLimits.get(t);
      List<InstanceOption> fitting = new ArrayList<>();
      boolean limited = false;
      for (InstanceOption o : t.options()) {
        if (!total.fitsIn(o.allocatable()) || o.requirements().conflict(merged).isPresent() || !o.offerable(merged)) {
          continue;
        }
        if (limits != null && !withinLimits(o, limits)) {
          limited = true;
          continue;
        }
        fitting.add(o);
      }
      if (fitting.isEmpty()) {
        reasons.add("NodePool " + t.nodePool() + ": no instance type " + (limited ? "within its limits " : "")
            + "has an available offering that fits requests " + describe(pod.requests()) + " plus daemon overhead "
            + describe(t.daemonOverhead()) + " and requirements " + alt);
        continue;
      }
      Optional<String> minValues = minValuesUnmet(merged, fitting);
      if (minValues.isPresent()) {
        reasons.add("NodePool " + t.nodePool() + ": " + minValues.get());
        continue;
      }
      OpenClaim claim = new OpenClaim(id, t, merged, fitting, total);
      claim.commit(pod, alt, merged, fitting, total);
      reserve(t, fitting);
      claims.add(claim);
      return Optional.empty();
    }
    return Optional.of(String.join("; ", reasons));
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

  private static Optional<String> minValuesUnmet(Requirements requirements, List<InstanceOption> options) {
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
        return Optional.of("minValues of " + r.key() + " not met: " + distinct.size() + " of " + min.getAsInt());
      }
    }
    return Optional.empty();
  }

  private static String describe(Resources r) {
    return r.amounts().toString();
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
    private List<InstanceOption> options;
    private Resources requests;
    private final List<String> pods = new ArrayList<>();
    private final Set<String> hostPorts = new HashSet<>();
    private final Set<Requirements> merged = new HashSet<>();

    OpenClaim(String id, ClaimTemplate template, Requirements requirements, List<InstanceOption> options, Resources requests) {
      this.id = id;
      this.template = template;
      this.requirements = requirements;
      this.options = options;
      this.requests = requests;
    }

    Fit tryAdd(SchedulingPod pod, Requirements alt) {
      if (Tolerations.firstUntolerated(pod.tolerations(), template.taints()).isPresent()) {
        return Fit.NEVER;
      }
      for (String p : pod.hostPorts()) {
        if (hostPorts.contains(p)) {
          return Fit.NEVER;
        }
      }
      boolean constrained = !pod.topology().isEmpty();
      Requirements next = requirements;
      boolean changed = false;
      if (constrained || !merged.contains(alt)) {
        if (requirements.compatible(alt).isPresent()) {
          return Fit.NEVER;
        }
        next = requirements.and(alt);
        if (constrained) {
          Optional<Requirements> topo = topology.requirements(pod, alt, next);
          if (topo.isEmpty() || !topology.allowsHost(pod, id)) {
            return Fit.NOT_NOW;
          }
          next = next.and(topo.get());
          if (next.all().stream().anyMatch(Requirement::isEmpty)) {
            return Fit.NOT_NOW;
          }
        }
        changed = !next.equals(requirements);
      }
      Resources total = requests.plus(pod.requests());
      List<InstanceOption> fitting = new ArrayList<>(options.size());
      for (InstanceOption o : options) {
        if (total.fitsIn(o.allocatable()) && (!changed || (o.requirements().conflict(next).isEmpty() && o.offerable(next)))) {
          fitting.add(o);
        }
      }
      if (fitting.isEmpty() || minValuesUnmet(next, fitting).isPresent()) {
        return constrained ? Fit.NOT_NOW : Fit.NEVER;
      }
      commit(pod, alt, next, fitting, total);
      return Fit.ADDED;
    }

    void commit(SchedulingPod pod, Requirements alt, Requirements next, List<InstanceOption> fitting, Resources total) {
      requirements = next;
      options = fitting;
      requests = total;
      pods.add(pod.uid());
      hostPorts.addAll(pod.hostPorts());
      if (pod.topology().isEmpty()) {
        merged.add(alt);
      }
      topology.record(pod, domains(requirements.singleValues(), id));
    }

    NewClaim toNewClaim(int maxTypes) {
      Requirements r = requirements;
      List<InstanceOption> cheapest = options.stream()
          .sorted(Comparator.comparingDouble((InstanceOption o) -> o.cheapestPrice(r)).thenComparing(InstanceOption::name))
          .limit(maxTypes).toList();
      return new NewClaim(template, requirements, cheapest, requests, pods);
    }
  }
}
