package dev.dovetail.provisioner.provisioning;

import dev.dovetail.api.scheduling.ClaimTemplate;
import dev.dovetail.api.scheduling.Requirements;
import dev.dovetail.api.scheduling.Scheduler;
import dev.dovetail.api.scheduling.SchedulingPod;
import dev.dovetail.api.scheduling.Solution;
import dev.dovetail.api.scheduling.TopologyTerm;
import dev.dovetail.api.scheduling.Unschedulable;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The provisioning simulation over one read of the cluster: the ready NodePools' templates and the
 * capacity are taken once, and each {@link #simulate} places a set of pods on them with some nodes left
 * out. A provisioning pass simulates once; a disruption pass simulates for many sets of candidates, and
 * pays for reading the cluster only once.
 */
public final class Simulator {
  /**
   * The requirements the cluster adds to a pod beyond its own spec (its distribution rule's capacity type,
   * its volumes' zones), decided pod after pod within one simulation.
   */
  public interface PodRules {
    PodRules NONE = new PodRules() {
      @Override
      public Requirements requirements(Pod pod) {
        return Requirements.NONE;
      }

      @Override
      public Map<String, String> strategies() {
        return Map.of();
      }
    };

    Requirements requirements(Pod pod);

    /** The distribution strategy of each governed pod decided so far, by UID. */
    Map<String, String> strategies();

    /** The pods given spot only so far that may fall back to on-demand if spot cannot be had, by UID. */
    default Set<String> mayFallBack() {
      return Set.of();
    }
  }

  /**
   * What one simulation leaves out and changes: the nodes and claims in {@code removed} hold nothing; the
   * pods in {@code fallback} run on on-demand capacity standing in for spot; with {@code backToSpot},
   * governed pods leaving a removed fallback node need spot (reverse fallback), and never fall back.
   */
  public record Scope(Set<String> removed, Set<String> fallback, boolean backToSpot) {
    public Scope {
      removed = Set.copyOf(removed);
      fallback = Set.copyOf(fallback);
    }
  }

  private final List<Templates.PoolTemplate> pools;
  private final Map<String, String> poolsNotReady;
  private final Snapshot.Capacity capacity;
  private final Function<Scope, PodRules> rules;
  private final Consumer<Provisioner.Plan> observer;
  private final Map<String, Templates.PoolTemplate> poolByName = new HashMap<>();
  private final List<ClaimTemplate> templates;
  /** Option tables of the templates, worked out once for all the simulations. */
  private final Scheduler.Shared shared = new Scheduler.Shared();

  /**
   * @param rules a fresh {@link PodRules} for one simulation
   * @param observer told of every plan (metrics)
   */
  public Simulator(List<Templates.PoolTemplate> pools, Map<String, String> poolsNotReady, Snapshot.Capacity capacity,
      Function<Scope, PodRules> rules, Consumer<Provisioner.Plan> observer) {
    this.pools = List.copyOf(pools);
    this.poolsNotReady = Map.copyOf(poolsNotReady);
    this.capacity = capacity;
    this.rules = rules;
    this.observer = observer;
    pools.forEach(p -> poolByName.put(p.pool().getMetadata().getName(), p));
    this.templates = this.pools.stream().map(Templates.PoolTemplate::template).toList();
  }

  /** Whether the node or in-flight claim of this name is ready for pods now (see {@link Snapshot.Capacity#initialized}). */
  public boolean initialized(String name) {
    return capacity.initialized(name);
  }

  /** The pools that could not launch, and why. */
  public Map<String, String> poolsNotReady() {
    return poolsNotReady;
  }

  /**
   * Places {@code pods} on the capacity without the nodes and NodeClaims named in {@code removed}, then
   * on new claims. The pods are placed anew: where they run or are nominated to holds nothing. Governed
   * pods given spot that spot cannot hold (no launchable spot offering fits them, or the pools allowing
   * spot are full) fall back: the batch is simulated again with those on on-demand capacity that stands in
   * for spot (F10), and the plan says why each fell back.
   */
  public Provisioner.Plan simulate(List<Pod> pods, Set<String> removed) {
    return simulate(pods, removed, Set.of());
  }

  /**
   * Places pods whose nodes, named in {@code leaving}, are going (interrupted, cordoned or not yet in the
   * caches' view): as {@link #simulate} places pending pods, looking for capacity anew (they may fall
   * back) rather than moving with their capacity type, and with nothing of the leaving nodes to place them on.
   */
  public Provisioner.Plan simulateDisplaced(List<Pod> pods, Set<String> leaving) {
    return simulate(pods, Set.of(), leaving);
  }

  private Provisioner.Plan simulate(List<Pod> pods, Set<String> removed, Set<String> leaving) {
    long start = System.nanoTime();
    Set<String> leftOut = new HashSet<>(removed);
    leftOut.addAll(leaving);
    Attempt first = attempt(pods, new Scope(removed, Set.of(), false), leftOut);
    Set<String> fallback = new HashSet<>(first.mayFallBack());
    fallback.retainAll(first.solution().unschedulable().keySet());
    Attempt chosen = first;
    Map<String, Unschedulable> spotUnavailable = new LinkedHashMap<>();
    if (!fallback.isEmpty()) {
      chosen = attempt(pods, new Scope(removed, fallback, false), leftOut);
      fallback.forEach(uid -> spotUnavailable.put(uid, first.solution().unschedulable().get(uid)));
    }
    return plan(chosen, spotUnavailable, start);
  }

  /**
   * Places {@code pods} as {@link #simulate} does, but governed pods leaving a removed fallback node need
   * spot, and no pod falls back: whether spot can take back what fell back to on-demand.
   */
  public Provisioner.Plan simulateBackToSpot(List<Pod> pods, Set<String> removed) {
    long start = System.nanoTime();
    return plan(attempt(pods, new Scope(removed, Set.of(), true), removed), Map.of(), start);
  }

  private Provisioner.Plan plan(Attempt attempt, Map<String, Unschedulable> spotUnavailable, long start) {
    Provisioner.Plan plan = new Provisioner.Plan(attempt.solution(), poolByName, attempt.byUid(), attempt.spreading(), attempt.rules().strategies(),
        attempt.rejected(), spotUnavailable, poolsNotReady, Duration.ofNanos(System.nanoTime() - start));
    observer.accept(plan);
    return plan;
  }

  /** One simulation of the batch. */
  private record Attempt(Solution solution, PodRules rules, Map<String, Pod> byUid, Set<String> spreading, Map<String, Unschedulable> rejected) {
    Set<String> mayFallBack() {
      return rules.mayFallBack();
    }
  }

  /** One simulation of the batch in {@code scope}, on the capacity without the nodes and claims in {@code leftOut}. */
  private Attempt attempt(List<Pod> pods, Scope scope, Set<String> leftOut) {
    List<Pod> sorted = new ArrayList<>(pods);
    Set<String> uids = new HashSet<>();
    sorted.forEach(p -> uids.add(p.getMetadata().getUid()));
    Snapshot.Capacity.View view = capacity.without(leftOut, uids);
    sorted.sort(Comparator.comparing((Pod p) -> String.valueOf(p.getMetadata().getCreationTimestamp())).thenComparing(p -> p.getMetadata().getUid()));
    PodRules decided = rules.apply(scope);
    Map<String, Pod> byUid = new HashMap<>();
    Set<String> spreading = new HashSet<>();
    List<SchedulingPod> simulated = new ArrayList<>(sorted.size());
    Map<String, Unschedulable> rejected = new LinkedHashMap<>();
    for (Pod pod : sorted) {
      byUid.put(pod.getMetadata().getUid(), pod);
      try {
        SchedulingPod p = SchedulingPod.of(pod, decided.requirements(pod));
        simulated.add(p);
        if (p.topology().stream().anyMatch(t -> t.kind() == TopologyTerm.Kind.SPREAD)) {
          spreading.add(p.uid());
        }
      } catch (RuntimeException e) {
        rejected.put(pod.getMetadata().getUid(), new Unschedulable.Unreadable(e.getMessage()));
      }
    }
    Solution solution = new Scheduler(view.nodes(), templates, view.placedPods(), Provisioner.MAX_INSTANCE_TYPES, shared).solve(simulated);
    return new Attempt(solution, decided, byUid, spreading, rejected);
  }
}
