package dev.dovetail.state;

import dev.dovetail.api.distribution.PodFacts;
import dev.dovetail.api.distribution.RuleSet;
import dev.dovetail.api.scheduling.Resources;
import java.util.Optional;

/**
 * A read-only, in-memory view of the cluster for scheduling decisions. Every method answers from
 * caches; none calls the API server, so they are safe on an event loop.
 */
public interface ClusterView {
  /** True once every cache has its initial list; decisions before that would miss replicas. */
  boolean synced();

  Optional<NodeFacts> node(String name);

  /** Sum of the requests of the pods bound to a node and still running. */
  Resources requested(String node);

  /** The workload a pod belongs to and its desired replica count. */
  Workload workloadOf(PodFacts pod);

  /**
   * Where a workload's replicas are, except the pod with {@code excludedPodUid}. Bound pods count by
   * their node; pods not yet bound count by {@code inFlight} (placement decided, binding pending).
   */
  WorkloadPlacement placement(WorkloadKey workload, String excludedPodUid, InFlight inFlight);

  /** The distribution rules in force. */
  RuleSet rules();
}
