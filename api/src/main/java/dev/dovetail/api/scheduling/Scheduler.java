package dev.dovetail.api.scheduling;

import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * The provisioning simulation: places pending pods, largest first, on running and in-flight nodes,
 * then on claims opened earlier in this simulation, then on new claims from the heaviest NodePool that
 * fits. A claim keeps every instance type that still fits all its pods; the cheapest is launched.
 *
 * <p>Pure and deterministic for a given input: every {@link #solve} simulates on its own copies of the
 * nodes (made as pods land on them), so the {@link SimNode}s given (and everything else given) are left as
 * they were, and solving again, with this scheduler or another over the same nodes, gives the same answer.
 * Solves share the templates' option tables ({@link Shared}), so one scheduler is not for two threads at once.
 *
 * <p>Near-linear in the number of pods, however constrained: a pod is tried only on the nodes and
 * claims ({@link Bins}) that could take it — not those it can never use (an untolerated taint, a
 * conflicting requirement, a taken host port: remembered per kind of pod, since nodes and claims only
 * fill up and narrow), not those without room for it (a bound kept per bin), not those its hostname
 * terms rule out (bit sets of the counts), not those outside the domains its zone terms allow — and
 * among those left, in order. Every bin left out is one the plain first-fit would have tried and
 * refused, so the answer is the plain first-fit's (SchedulerEquivalenceTest checks this against it).
 */
public final class Scheduler {
  /** The nodes given, in order; a node is copied before the first pod is placed on it (see {@link #fill}), so they are never changed. */
  private final List<SimNode> nodes;
  private final List<ClaimTemplate> templates;
  private final Supplier<List<Placed>> existingPods;
  private final int maxTypesPerClaim;
  private final Shared shared;

  /** Null unless a pod being placed has topology terms: then the running pods and every placement count. */
  private Topology topology;
  private final Bins bins;
  /** Nodes a pod was placed on in this simulation: the copies that are filled. */
  private final Map<Integer, SimNode> filled = new HashMap<>();
  private final Map<String, Integer> binOfHost = new HashMap<>();
  private final Map<ClaimTemplate, Resources> remainingLimits = new HashMap<>();
  private final Map<ClaimTemplate, Integer> remainingNodes = new HashMap<>();
  private final Map<DomainQuery, Set<String>> domainCache = new HashMap<>();

  private final List<OpenClaim> claims = new ArrayList<>();
  private final Map<String, String> onNodes = new LinkedHashMap<>();
  private final Map<String, Unschedulable> unschedulable = new LinkedHashMap<>();
  /**
   * Per kind of pod (tolerations, host ports, requirement alternative): bins it can never use, for an
   * untolerated taint, a conflicting requirement or a taken host port (nodes and claims only narrow and
   * fill up).
   */
  private final Map<Kind, BitSet> ruledOut = new HashMap<>();
  private final BitSet candidates = new BitSet();
  private final BitSet scratch = new BitSet();

  private record Kind(List<Toleration> tolerations, Set<String> hostPorts, Requirements requirements) {
  }

  /**
   * What simulations over the same NodePool templates can share: each template's option table (its
   * options as arrays, with the compatibility it has worked out) and its offered domains. For many
   * simulations of one read of the cluster (a disruption pass); not for use by two threads at once.
   */
  public static final class Shared {
    private final Map<ClaimTemplate, OptionSet.Table> tables = new IdentityHashMap<>();
    private final Map<ClaimTemplate, Requirements> templateDomains = new IdentityHashMap<>();
  }

  /**
   * @param nodes running nodes and in-flight claims, in the order they are tried
   * @param templates one per NodePool that may launch
   * @param existingPods running pods, for topology spread and pod (anti-)affinity
   * @param maxTypesPerClaim instance types kept on each new claim for launch flexibility (60, like Karpenter's launches)
   */
  public Scheduler(List<SimNode> nodes, List<ClaimTemplate> templates, List<Placed> existingPods, int maxTypesPerClaim) {
    this(nodes, templates, () -> existingPods, maxTypesPerClaim, new Shared());
  }

  /**
   * A scheduler whose running pods are read only if a pod to place has topology terms (most consolidation
   * moves have none, and the cluster's pods are many), sharing option tables with other schedulers.
   */
  public Scheduler(List<SimNode> nodes, List<ClaimTemplate> templates, Supplier<List<Placed>> existingPods, int maxTypesPerClaim,
      Shared shared) {
    this(List.copyOf(nodes), templates.stream().sorted(ClaimTemplate.BY_WEIGHT).toList(), existingPods, maxTypesPerClaim, shared, false);
  }

  /** With {@code run}, the state of one simulation; without, only the inputs. */
  private Scheduler(List<SimNode> nodes, List<ClaimTemplate> templates, Supplier<List<Placed>> existingPods, int maxTypesPerClaim,
      Shared shared, boolean run) {
    this.nodes = nodes;
    this.templates = templates;
    this.existingPods = existingPods;
    this.maxTypesPerClaim = maxTypesPerClaim;
    this.shared = shared;
    this.bins = run ? new Bins(bin -> bin < this.nodes.size() ? this.nodes.get(bin).requirements() : claims.get(bin - this.nodes.size()).requirements)
        : null;
    if (!run) {
      return;
    }
    for (ClaimTemplate t : this.templates) {
      remainingLimits.put(t, t.remainingLimits());
      remainingNodes.put(t, t.remainingLimits() == null || !t.remainingLimits().amounts().containsKey("nodes")
          ? Integer.MAX_VALUE : (int) t.remainingLimits().get("nodes"));
    }
    for (SimNode n : this.nodes) {
      binOfHost.put(n.name(), bins.add(n.roomCpu(), n.roomMemory(), n.roomPods()));
    }
  }

  /** The running pods counted from now on: every placement of this simulation is recorded too. */
  private void countTopology() {
    List<Topology.Placed> placed = new ArrayList<>();
    for (Placed p : existingPods.get()) {
      placed.add(new Topology.Placed(p.namespace(), p.labels(), p.nodeLabels()));
    }
    this.topology = new Topology(placed, this::eligibleDomains, host -> binOfHost.getOrDefault(host, -1));
  }

  /** The node at this bin, to place a pod on: a copy, made the first time. */
  private SimNode fill(int bin) {
    return filled.computeIfAbsent(bin, b -> nodes.get(b).copy());
  }

  /** The node at this bin as it is now in this simulation. */
  private SimNode node(int bin) {
    SimNode copy = filled.get(bin);
    return copy != null ? copy : nodes.get(bin);
  }

  private record DomainQuery(List<Toleration> tolerations, Requirements requirements, String key, boolean affinity, boolean taints) {
  }

  /**
   * Domains of the term's key skew is measured over: of nodes and pools the pod's node selection accepts (unless the
   * term's nodeAffinityPolicy is Ignore), whose taints it tolerates (only when its nodeTaintsPolicy is Honor).
   */
  private Set<String> eligibleDomains(SchedulingPod pod, Requirements alt, TopologyTerm term) {
    String key = term.topologyKey();
    return domainCache.computeIfAbsent(new DomainQuery(pod.tolerations(), alt, key, term.honorNodeAffinity(), term.honorNodeTaints()), q -> {
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
        Optional<Requirement> r = offered(t).get(key).or(() -> t.requirements().get(key));
        r.filter(x -> !x.complement()).ifPresent(x -> out.addAll(x.values()));
      }
      return out;
    });
  }

  private Requirements offered(ClaimTemplate t) {
    return shared.templateDomains.computeIfAbsent(t, k -> new OptionSet(table(k), all(table(k).size()), table(k).size())
        .offeredDomains(k.requirements()));
  }

  private OptionSet.Table table(ClaimTemplate t) {
    return shared.tables.computeIfAbsent(t, k -> new OptionSet.Table(k.options()));
  }

  private static int[] all(int n) {
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      out[i] = i;
    }
    return out;
  }

  /** A pod already running somewhere, with the labels of its node (zone, hostname, capacity type). */
  public record Placed(String namespace, Map<String, String> labels, Map<String, String> nodeLabels) {
  }

  /**
   * Places the pods. Each call is a simulation of its own, on fresh copies of the nodes: nothing of an
   * earlier call (placements, claims, limits used) carries over.
   */
  public Solution solve(List<SchedulingPod> pods) {
    return new Scheduler(nodes, templates, existingPods, maxTypesPerClaim, shared, true).simulate(pods);
  }

  private Solution simulate(List<SchedulingPod> pods) {
    if (pods.stream().anyMatch(p -> !p.topology().isEmpty())) {
      countTopology();
    }
    for (SchedulingPod pod : SchedulingPod.packingOrder(pods)) {
      place(pod).ifPresent(reason -> unschedulable.put(pod.uid(), reason));
    }
    List<NewClaim> out = new ArrayList<>();
    Map<Requirements, Map<InstanceOption, Double>> prices = new HashMap<>();
    for (OpenClaim c : claims) {
      out.add(c.toNewClaim(maxTypesPerClaim, prices.computeIfAbsent(c.requirements, r -> new IdentityHashMap<>())));
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
      Map<TopologyTerm, Set<String>> allowed = pod.topology().isEmpty() ? Map.of() : topology.allowed(pod, alt);
      if (placeOnBin(pod, alt, allowed)) {
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

  /** Tries the nodes, then the open claims, in order, leaving out those that certainly cannot take the pod. */
  private boolean placeOnBin(SchedulingPod pod, Requirements alt, Map<TopologyTerm, Set<String>> allowed) {
    int total = bins.size();
    if (total == 0) {
      return false;
    }
    BitSet never = ruledOut.computeIfAbsent(new Kind(pod.tolerations(), pod.hostPorts(), alt), k -> new BitSet());
    candidates.clear();
    candidates.set(0, total);
    candidates.andNot(never);
    if (!pod.topology().isEmpty()) {
      topology.narrowHosts(pod, candidates);
      for (Map.Entry<TopologyTerm, Set<String>> e : allowed.entrySet()) {
        bins.narrowToDomains(e.getKey().topologyKey(), e.getValue(), candidates, scratch);
      }
    }
    int nodeCount = nodes.size();
    // The first bin that is both a candidate and may have room, then the next: both searches skip what they can.
    int bin = bins.nextMayFit(0, pod.requests());
    while (bin >= 0) {
      int candidate = candidates.nextSetBit(bin);
      if (candidate < 0) {
        return false;
      }
      if (candidate != bin) {
        bin = bins.nextMayFit(candidate, pod.requests());
        continue;
      }
      boolean added = bin < nodeCount ? tryNode(pod, alt, allowed, bin, never) : tryClaim(pod, alt, allowed, bin, never);
      if (added) {
        return true;
      }
      bin = bins.nextMayFit(bin + 1, pod.requests());
    }
    return false;
  }

  private boolean tryNode(SchedulingPod pod, Requirements alt, Map<TopologyTerm, Set<String>> allowed, int bin, BitSet never) {
    SimNode node = node(bin);
    if (!pod.requests().fitsWith(node.requested(), node.allocatable())) {
      return false;
    }
    // Taints and labels do not change and host ports only fill up: these rejections are final for this kind of pod.
    if (Tolerations.firstUntolerated(pod.tolerations(), node.taints()).isPresent() || !node.accepts(alt) || !node.portsFree(pod.hostPorts())) {
      never.set(bin);
      return false;
    }
    if (!pod.topology().isEmpty()) {
      Optional<Requirements> topo = topology.requirements(allowed, node.requirements());
      if (topo.isEmpty() || !node.accepts(topo.get()) || !topology.allowsHost(pod, node.name())) {
        return false;
      }
    }
    node = fill(bin);
    node.add(pod);
    bins.room(bin, node.roomCpu(), node.roomMemory(), node.roomPods());
    if (topology != null) {
      topology.record(pod, domains(node.labels(), node.name()));
    }
    onNodes.put(pod.uid(), node.name());
    return true;
  }

  private boolean tryClaim(SchedulingPod pod, Requirements alt, Map<TopologyTerm, Set<String>> allowed, int bin, BitSet never) {
    OpenClaim claim = claims.get(bin - nodes.size());
    Fit fit = claim.tryAdd(pod, alt, allowed);
    if (fit == Fit.NEVER) {
      never.set(bin);
    }
    return fit == Fit.ADDED;
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
        Optional<Requirements> topo = topology.requirements(pod, alt, merged.and(offered(t)));
        if (topo.isEmpty() || !topology.allowsHost(pod, id)) {
          reasons.add(new Unschedulable.NoTopologyDomain(t.nodePool()));
          continue;
        }
        merged = merged.and(topo.get());
      }
      Resources total = t.daemonOverhead().plus(pod.requests());
      Resources limits = remainingLimits.get(t);
      OptionSet.Table table = table(t);
      BitSet compatible = table.compatible(merged);
      int[] fitting = new int[compatible.cardinality()];
      int count = 0;
      boolean limited = false;
      for (int i = compatible.nextSetBit(0); i >= 0; i = compatible.nextSetBit(i + 1)) {
        if (!table.fits(i, total)) {
          continue;
        }
        if (limits != null && !withinLimits(table, i, limits)) {
          limited = true;
          continue;
        }
        fitting[count++] = i;
      }
      if (count == 0) {
        reasons.add(new Unschedulable.NoFittingType(t.nodePool(), limited, pod.requests(), t.daemonOverhead(), alt));
        continue;
      }
      OptionSet options = new OptionSet(table, fitting, count);
      Optional<Unschedulable.MinValuesUnmet> minValues = minValuesUnmet(t.nodePool(), merged, options.list());
      if (minValues.isPresent()) {
        reasons.add(minValues.get());
        continue;
      }
      OpenClaim claim = new OpenClaim(id, t, merged, options, total);
      claims.add(claim);
      claim.bin = bins.add(0, 0, 0);
      binOfHost.put(id, claim.bin);
      claim.commit(pod, alt, merged, total, true);
      reserve(t, options);
      return Optional.empty();
    }
    return Optional.of(new Unschedulable.Rejected(reasons));
  }

  private static boolean withinLimits(OptionSet.Table table, int i, Resources limits) {
    for (Map.Entry<String, Long> e : limits.amounts().entrySet()) {
      if (!e.getKey().equals("nodes") && table.capacity(i, e.getKey()) > e.getValue()) {
        return false;
      }
    }
    return true;
  }

  /** A new claim may become any of its options: hold the largest against the pool's limits (Karpenter's rule). */
  private void reserve(ClaimTemplate t, OptionSet options) {
    remainingNodes.computeIfPresent(t, (k, n) -> n == Integer.MAX_VALUE ? n : n - 1);
    Resources limits = remainingLimits.get(t);
    if (limits == null) {
      return;
    }
    Map<String, Long> largest = new TreeMap<>();
    for (String k : limits.amounts().keySet()) {
      if (!k.equals("nodes")) {
        largest.put(k, options.largestCapacity(k));
      }
    }
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

  /** Result of offering a pod to a claim. NEVER: this kind of pod will never fit this claim again. */
  private enum Fit { ADDED, NOT_NOW, NEVER }

  /** A claim opened in this simulation. */
  private final class OpenClaim {
    private final String id;
    private final ClaimTemplate template;
    private Requirements requirements;
    private final OptionSet options;
    private Resources requests;
    private final List<String> pods = new ArrayList<>();
    private Set<String> hostPorts = Set.of();
    private final Set<Requirements> merged = new HashSet<>();
    /** Where the claim can still land (zones, capacity types), for topology; recomputed when options change. */
    private Requirements domains;
    private int bin;

    OpenClaim(String id, ClaimTemplate template, Requirements requirements, OptionSet options, Resources requests) {
      this.id = id;
      this.template = template;
      this.requirements = requirements;
      this.options = options;
      this.requests = requests;
    }

    /**
     * Offers a pod. NEVER covers what cannot change for this kind of pod (taints, ports, requirements:
     * the claim only fills up and narrows); a pod that does not fit the room left is refused without
     * being marked (a smaller pod of the same kind may still fit); NOT_NOW what topology counts may change.
     */
    Fit tryAdd(SchedulingPod pod, Requirements alt, Map<TopologyTerm, Set<String>> allowed) {
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
      if (!options.any(total, null)) {
        return Fit.NOT_NOW;
      }
      boolean constrained = !pod.topology().isEmpty();
      Requirements next = newRequirements ? requirements.and(alt) : requirements;
      if (constrained) {
        if (!topology.allowsHost(pod, id)) {
          return Fit.NOT_NOW;
        }
        if (domains == null) {
          domains = options.offeredDomains(requirements);
        }
        Optional<Requirements> topo = topology.requirements(allowed, next.and(domains));
        if (topo.isEmpty()) {
          return Fit.NOT_NOW;
        }
        next = next.and(topo.get());
        if (next.all().stream().anyMatch(Requirement::isEmpty)) {
          return Fit.NOT_NOW;
        }
      }
      Requirements changed = next.equals(requirements) ? null : next;
      if (changed != null && !options.any(total, changed)) {
        return Fit.NOT_NOW;
      }
      if (hasMinValues(next)) {
        List<InstanceOption> remaining = new ArrayList<>();
        for (InstanceOption o : options.list()) {
          if (total.fitsIn(o.allocatable()) && (changed == null || (o.requirements().intersects(next) && o.offerable(next)))) {
            remaining.add(o);
          }
        }
        if (minValuesUnmet(template.nodePool(), next, remaining).isPresent()) {
          return Fit.NOT_NOW;
        }
      }
      int before = options.size();
      options.retain(total, changed);
      if (options.size() != before || changed != null) {
        domains = null;
      }
      commit(pod, alt, next, total, changed != null);
      return Fit.ADDED;
    }

    void commit(SchedulingPod pod, Requirements alt, Requirements next, Resources total, boolean narrowed) {
      requirements = next;
      requests = total;
      pods.add(pod.uid());
      if (!pod.hostPorts().isEmpty()) {
        hostPorts = new HashSet<>(hostPorts);
        hostPorts.addAll(pod.hostPorts());
      }
      merged.add(alt);
      bins.room(bin, options.maxCpu() - total.cpuMillis(), options.maxMemory() - total.memoryBytes(), options.maxPods() - total.pods());
      if (narrowed) {
        bins.narrowed(bin);
      }
      if (topology != null) {
        topology.record(pod, Scheduler.domains(requirements.singleValues(), id));
      }
    }

    NewClaim toNewClaim(int maxTypes, Map<InstanceOption, Double> prices) {
      Requirements r = requirements;
      List<InstanceOption> sorted = new ArrayList<>(options.list());
      sorted.sort((a, b) -> {
        int byPrice = Double.compare(prices.computeIfAbsent(a, o -> o.cheapestPrice(r)), prices.computeIfAbsent(b, o -> o.cheapestPrice(r)));
        return byPrice != 0 ? byPrice : a.name().compareTo(b.name());
      });
      return new NewClaim(template, requirements, sorted.subList(0, Math.min(maxTypes, sorted.size())), requests, pods);
    }
  }
}
