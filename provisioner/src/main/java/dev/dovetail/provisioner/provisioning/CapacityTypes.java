package dev.dovetail.provisioner.provisioning;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.distribution.PodFacts;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.Requirement;
import dev.dovetail.api.scheduling.Requirements;
import dev.dovetail.state.Governance;
import dev.dovetail.state.InFlight;
import dev.dovetail.state.WorkloadKey;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The capacity type the distribution gives each pod of a simulation ({@link Simulator.PodRules}): the class
 * its rule prefers (on-demand includes reserved capacity), pods of one workload decided in order, each
 * counting those decided before it in the simulation, exactly as the extender counts replicas in flight. A
 * pending pod given spot may fall back; one that falls back (or leaves a fallback node, unless it is going
 * back to spot) needs on-demand capacity labelled {@link DovetailLabels#CAPACITY_FALLBACK}, where it still
 * holds a spot place. The provisioner and the spot-savings simulator decide with this one class.
 */
public final class CapacityTypes {
  private final Governance governance;
  private final Function<String, Optional<Map<String, String>>> nodeLabels;

  /**
   * @param governance the distribution rules over the cluster's current placement
   * @param nodeLabels the labels of a node by name (where a pod leaving it comes from)
   */
  public CapacityTypes(Governance governance, Function<String, Optional<Map<String, String>>> nodeLabels) {
    this.governance = governance;
    this.nodeLabels = nodeLabels;
  }

  /** Fresh rules for one simulation, with {@code extra} requirements of each pod (its volumes' zones) added. */
  public Simulator.PodRules rules(Simulator.Scope scope, Function<Pod, Requirements> extra) {
    BatchDecisions decided = new BatchDecisions();
    return new Simulator.PodRules() {
      @Override
      public Requirements requirements(Pod pod) {
        return capacityTypeFor(pod, decided, scope).and(extra.apply(pod));
      }

      @Override
      public Map<String, String> strategies() {
        return decided.strategies;
      }

      @Override
      public Set<String> mayFallBack() {
        return decided.mayFallBack;
      }
    };
  }

  private Requirements capacityTypeFor(Pod pod, BatchDecisions decided, Simulator.Scope scope) {
    PodFacts facts = PodFacts.of(pod);
    Governance.Result result = governance.govern(facts, decided, false);
    if (result.governed().isEmpty()) {
      return Requirements.NONE;
    }
    var governed = result.governed().get();
    String uid = pod.getMetadata().getUid();
    Optional<Map<String, String>> from = movedFrom(pod, scope.removed());
    boolean fromFallback = from.map(l -> "true".equals(l.get(DovetailLabels.CAPACITY_FALLBACK))).orElse(false);
    boolean fallback = scope.fallback().contains(uid) || (fromFallback && !scope.backToSpot());
    CapacityType preferred = fallback || fromFallback ? CapacityType.SPOT
        : from.flatMap(CapacityType::ofNode).orElseGet(() -> governed.decision().preferred().orElse(CapacityType.ON_DEMAND));
    decided.add(governed.workload().key(), preferred.isSpot());
    decided.strategies.put(uid, governed.rule().rule().strategy().name());
    if (fallback) {
      return Requirements.of(Requirement.in(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.ON_DEMAND),
          Requirement.in(DovetailLabels.CAPACITY_FALLBACK, "true"));
    }
    // Only a pod looking for capacity falls back: one leaving a node (consolidation, drift) keeps its type or stays.
    if (preferred.isSpot() && from.isEmpty()) {
      decided.mayFallBack.add(uid);
    }
    // An on-demand replica never goes to capacity standing in for spot: the extender counts that as a spot place.
    return preferred.isSpot() ? Requirements.of(Requirement.in(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.SPOT))
        : Requirements.of(Requirement.in(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.ON_DEMAND, WellKnownLabels.RESERVED),
            Requirement.notIn(DovetailLabels.CAPACITY_FALLBACK, List.of("true")));
  }

  /** The labels of the removed node the pod runs on, if it runs on one. */
  private Optional<Map<String, String>> movedFrom(Pod pod, Set<String> removed) {
    String node = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
    return node == null || !removed.contains(node) ? Optional.empty() : nodeLabels.apply(node);
  }

  /** Capacity types decided earlier in this simulation, per workload. */
  static final class BatchDecisions implements InFlight {
    private final Map<WorkloadKey, int[]> counts = new HashMap<>();
    /** The distribution strategy of each governed pod, by UID: a claim for pods of one strategy launches by it. */
    final Map<String, String> strategies = new HashMap<>();
    /** The governed pods given spot that may fall back to on-demand, by UID. */
    final Set<String> mayFallBack = new HashSet<>();

    void add(WorkloadKey key, boolean spot) {
      counts.computeIfAbsent(key, k -> new int[2])[spot ? 0 : 1]++;
    }

    @Override
    public Pending pending(WorkloadKey workload, String excludedPodUid) {
      int[] c = counts.get(workload);
      return c == null ? Pending.NONE : new Pending(c[0], c[1], Map.of());
    }
  }
}
