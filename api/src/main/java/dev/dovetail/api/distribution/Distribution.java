package dev.dovetail.api.distribution;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec.Selector;
import java.util.EnumSet;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The distribution decision shared by the scheduler extender and the provisioner: which capacity
 * types a workload's next replica may use under its rule, and which it should get.
 *
 * <p>For N replicas, base B and on-demand percentage P: {@code base = min(B, N)},
 * {@code onDemand = base + ceil((N - base) * P / 100)}, {@code spot = N - onDemand}; rounding favours
 * on-demand, so P = 100 never yields a spot replica. With the {@code SpotReady} selector a workload
 * that wants a single replica runs entirely on on-demand.
 *
 * <p>A replica may use every capacity type whose target is not yet met, so existing capacity is used
 * whatever order replicas arrive in, and the split is exact once all are placed. The preferred type is
 * the one with the larger deficit (ties go to on-demand); that is what gets launched when no allowed
 * node exists. StatefulSet replicas are placed by ordinal instead: the lowest ordinals are on-demand,
 * because ordinal 0 is often the primary.
 *
 * <p>Pure and deterministic: no clock, no I/O.
 */
public final class Distribution {
  private static final Set<CapacityType> ON_DEMAND_TYPES = EnumSet.of(CapacityType.ON_DEMAND, CapacityType.RESERVED);
  private static final Set<CapacityType> SPOT_TYPES = EnumSet.of(CapacityType.SPOT);

  private Distribution() {
  }

  /** The split of {@code replicas} replicas under the rule (selector not applied). */
  public static Targets targets(DistributionRule rule, int replicas) {
    if (replicas <= 0) {
      return new Targets(0, 0);
    }
    int base = Math.min(rule.baseOnDemand(), replicas);
    int rest = replicas - base;
    int onDemand = base + ceilDiv(rest * rule.onDemandPercent(), 100);
    return new Targets(onDemand, replicas - onDemand);
  }

  /** The split of a workload with {@code desiredReplicas} replicas, selector applied. */
  public static Targets targetsFor(DistributionRule rule, int desiredReplicas) {
    if (spotReadyExcludes(rule, desiredReplicas)) {
      return new Targets(Math.max(desiredReplicas, 0), 0);
    }
    return targets(rule, desiredReplicas);
  }

  /**
   * Decides the next replica of a workload.
   *
   * @param desiredReplicas the workload's desired replica count ({@code spec.replicas}; 1 for a bare pod)
   * @param placed the workload's other replicas that are bound or already placed (not this one)
   * @param statefulSetOrdinal the pod's StatefulSet ordinal, when it belongs to a StatefulSet
   */
  public static Placement next(DistributionRule rule, int desiredReplicas, ReplicaCounts placed, OptionalInt statefulSetOrdinal) {
    // Surge pods (rolling updates, a scale-up racing a scale-down) are placed as the next replica of a
    // larger workload, so they follow the split too.
    int total = Math.max(desiredReplicas, placed.total() + 1);
    if (spotReadyExcludes(rule, desiredReplicas)) {
      Targets all = new Targets(total, 0);
      return new Placement(ON_DEMAND_TYPES, Optional.of(CapacityType.ON_DEMAND), all,
          "single-replica workload stays on on-demand (selector SpotReady)");
    }
    if (statefulSetOrdinal.isPresent()) {
      int ordinal = statefulSetOrdinal.getAsInt();
      Targets t = targets(rule, Math.max(total, ordinal + 1));
      boolean onDemand = ordinal < t.onDemand();
      return new Placement(onDemand ? ON_DEMAND_TYPES : SPOT_TYPES,
          Optional.of(onDemand ? CapacityType.ON_DEMAND : CapacityType.SPOT), t,
          "ordinal " + ordinal + (onDemand ? " is among the first " + t.onDemand() + ", which run on on-demand"
              : " runs on spot (ordinals 0-" + (t.onDemand() - 1) + " run on on-demand)") + "; " + describe(t, placed));
    }
    Targets t = targets(rule, total);
    int onDemandDeficit = t.onDemand() - placed.onDemand();
    int spotDeficit = t.spot() - placed.spotPlaces();
    Set<CapacityType> allowed = EnumSet.noneOf(CapacityType.class);
    if (onDemandDeficit > 0) {
      allowed.addAll(ON_DEMAND_TYPES);
    }
    if (spotDeficit > 0) {
      allowed.addAll(SPOT_TYPES);
    }
    CapacityType preferred = spotDeficit > onDemandDeficit ? CapacityType.SPOT : CapacityType.ON_DEMAND;
    String which = allowed.size() == ON_DEMAND_TYPES.size() + SPOT_TYPES.size() ? "spot or on-demand (prefers " + preferred.label() + ")"
        : preferred.label() + " only";
    return new Placement(allowed, Optional.of(preferred), t, "next replica: " + which + "; " + describe(t, placed));
  }

  private static boolean spotReadyExcludes(DistributionRule rule, int desiredReplicas) {
    return rule.selector() == Selector.SpotReady && desiredReplicas <= 1;
  }

  private static String describe(Targets t, ReplicaCounts placed) {
    return "target " + t.spot() + " spot / " + t.onDemand() + " on-demand of " + t.total()
        + ", placed " + placed.spotPlaces() + " spot / " + placed.onDemand() + " on-demand";
  }

  private static int ceilDiv(int a, int b) {
    return -Math.floorDiv(-a, b);
  }
}
