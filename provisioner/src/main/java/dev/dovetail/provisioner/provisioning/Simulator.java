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
  }

  private final List<Templates.PoolTemplate> pools;
  private final Map<String, String> poolsNotReady;
  private final Snapshot.Capacity capacity;
  private final Function<Set<String>, PodRules> rules;
  private final Consumer<Provisioner.Plan> observer;
  private final Map<String, Templates.PoolTemplate> poolByName = new HashMap<>();
  private final List<ClaimTemplate> templates;
  /** Option tables of the templates, worked out once for all the simulations. */
  private final Scheduler.Shared shared = new Scheduler.Shared();

  /**
   * @param rules a fresh {@link PodRules} for a simulation without the given nodes
   * @param observer told of every plan (metrics)
   */
  public Simulator(List<Templates.PoolTemplate> pools, Map<String, String> poolsNotReady, Snapshot.Capacity capacity,
      Function<Set<String>, PodRules> rules, Consumer<Provisioner.Plan> observer) {
    this.pools = List.copyOf(pools);
    this.poolsNotReady = Map.copyOf(poolsNotReady);
    this.capacity = capacity;
    this.rules = rules;
    this.observer = observer;
    pools.forEach(p -> poolByName.put(p.pool().getMetadata().getName(), p));
    this.templates = this.pools.stream().map(Templates.PoolTemplate::template).toList();
  }

  /** The pools that could not launch, and why. */
  public Map<String, String> poolsNotReady() {
    return poolsNotReady;
  }

  /**
   * Places {@code pods} on the capacity without the nodes and NodeClaims named in {@code removed}, then
   * on new claims. The pods are placed anew: where they run or are nominated to holds nothing.
   */
  public Provisioner.Plan simulate(List<Pod> pods, Set<String> removed) {
    List<Pod> sorted = new ArrayList<>(pods);
    Set<String> uids = new HashSet<>();
    sorted.forEach(p -> uids.add(p.getMetadata().getUid()));
    Snapshot.Capacity.View view = capacity.without(removed, uids);
    sorted.sort(Comparator.comparing((Pod p) -> String.valueOf(p.getMetadata().getCreationTimestamp())).thenComparing(p -> p.getMetadata().getUid()));
    long start = System.nanoTime();
    PodRules decided = rules.apply(removed);
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
    Provisioner.Plan plan = new Provisioner.Plan(solution, poolByName, byUid, spreading, decided.strategies(), rejected, poolsNotReady,
        Duration.ofNanos(System.nanoTime() - start));
    observer.accept(plan);
    return plan;
  }
}
