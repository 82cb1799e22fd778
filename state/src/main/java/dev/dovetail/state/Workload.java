package dev.dovetail.state;

/** A workload and the replica count it asks for ({@code spec.replicas}, a Job's parallelism, 1 for a bare pod). */
public record Workload(WorkloadKey key, int desiredReplicas) {
}
