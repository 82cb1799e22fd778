package dev.dovetail.state;

import java.util.Map;

/**
 * Placements decided for pods the scheduler has not bound yet. kube-scheduler assumes a pod on its
 * node long before the binding reaches our informers; without this, a burst of replicas would all be
 * counted against the same, stale picture. Answers are aggregated per workload, so asking costs the
 * same for a workload with 10 replicas in flight as for one with 2,000.
 */
@FunctionalInterface
public interface InFlight {
  InFlight NONE = (workload, excludedPodUid) -> Pending.NONE;

  /**
   * A workload's pods in flight, except one: how many take spot places and how many on-demand ones,
   * and how many are expected on each node (when the node was predicted).
   */
  record Pending(int spot, int onDemand, Map<String, Integer> perNode) {
    public static final Pending NONE = new Pending(0, 0, Map.of());
  }

  Pending pending(WorkloadKey workload, String excludedPodUid);
}
