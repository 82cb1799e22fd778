package dev.dovetail.state;

import java.util.List;

/**
 * A workload, the replica count it asks for ({@code spec.replicas}, a Job's parallelism, 1 for a bare
 * pod), and the uids of the controllers that own its pods directly (a Deployment's ReplicaSets, or the
 * StatefulSet, Job or custom controller itself), so its replicas are found by index, not by scan.
 */
public record Workload(WorkloadKey key, int desiredReplicas, List<String> podOwnerUids) {
  public Workload {
    podOwnerUids = List.copyOf(podOwnerUids);
  }

  public Workload(WorkloadKey key, int desiredReplicas) {
    this(key, desiredReplicas, List.of());
  }
}
