package dev.dovetail.state;

import dev.dovetail.api.distribution.PodFacts;
import dev.dovetail.api.distribution.RuleSet;
import dev.dovetail.api.scheduling.Resources;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A read-only, in-memory view of the cluster for scheduling decisions. Every method but
 * {@link #fetchOwners} answers from caches without calling the API server, so they are safe on an event loop.
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
   * Whether the owners {@link #workloadOf} reads for this pod (its ReplicaSet and Deployment, StatefulSet or
   * Job) are known. A new workload's first pods can reach the scheduler before the watches deliver their
   * owners; until then the workload's size is a guess (one replica), which under {@code SpotReady} means
   * on-demand. Call {@link #fetchOwners} first when this is false.
   */
  default boolean ownersKnown(PodFacts pod) {
    return true;
  }

  /**
   * Reads the pod's owners from the API server and keeps them until the watches deliver them. Blocks on the
   * API server: call it on a worker thread, never on an event loop. A failed read leaves them unknown.
   */
  default void fetchOwners(PodFacts pod) {
  }

  /**
   * Where a workload's replicas are, except the pod with {@code excludedPodUid}. Bound pods count by
   * their node; pods not yet bound count by {@code inFlight} (placement decided, binding pending).
   * With {@code spread} false only the counts by capacity type are filled, which is cheaper.
   */
  WorkloadPlacement placement(Workload workload, String excludedPodUid, InFlight inFlight, boolean spread);

  /** The distribution rules in force. */
  RuleSet rules();

  /**
   * Calls {@code listener} with a pod's uid once the pod is bound, finished or gone: from then on it is
   * counted where it is, and any placement held in flight for it must be dropped.
   */
  void onPodSettled(Consumer<String> listener);
}
