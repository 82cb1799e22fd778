package dev.dovetail.provisioner.disruption;

import dev.dovetail.api.config.v1alpha1.PodEvictor;
import dev.dovetail.api.scheduling.Resources;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;
import java.util.Optional;
import java.util.function.ToIntFunction;

/**
 * Harness's pod evictor rules, which decide which nodes of the NodePools a ClusterOrchestratorConfig
 * manages count as under-used: the pods that would move (DaemonSet pods stay) request less than
 * {@code minimumCpu} percent of the node's allocatable CPU <em>and</em> less than {@code minimumMemory}
 * percent of its memory (the descheduler's HighNodeUtilization rule, on requests as Karpenter counts);
 * unless {@code evictSingleReplicas}, no pod is its workload's only replica (a bare pod is one); and a
 * pass moves at most {@code maxEvictions} pods.
 */
final class EvictorRules {
  private EvictorRules() {
  }

  /** Why the evictor leaves the candidate alone, if it does. */
  static Optional<Unconsolidatable> blocker(Candidate c, PodEvictor rules, ToIntFunction<Pod> replicas) {
    List<Pod> moving = Consolidator.moving(c);
    Resources allocatable = c.node().map(n -> n.getStatus() == null || n.getStatus().getAllocatable() == null ? Resources.NONE
        : Resources.of(n.getStatus().getAllocatable())).orElse(Resources.NONE);
    Resources requested = moving.stream().map(Resources::requestsOf).reduce(Resources.NONE, Resources::plus);
    int cpu = percent(requested.cpuMillis(), allocatable.cpuMillis());
    int memory = percent(requested.memoryBytes(), allocatable.memoryBytes());
    int minimumCpu = rules.minimumCpu() == null ? 30 : rules.minimumCpu();
    int minimumMemory = rules.minimumMemory() == null ? 30 : rules.minimumMemory();
    if (!underUsed(requested.cpuMillis(), allocatable.cpuMillis(), minimumCpu)
        || !underUsed(requested.memoryBytes(), allocatable.memoryBytes(), minimumMemory)) {
      return Optional.of(new Unconsolidatable.AboveUtilizationThreshold(cpu, memory, minimumCpu, minimumMemory));
    }
    if (!Boolean.TRUE.equals(rules.evictSingleReplicas())) {
      for (Pod p : moving) {
        if (replicas.applyAsInt(p) <= 1) {
          return Optional.of(new Unconsolidatable.SingleReplica(p.getMetadata().getNamespace() + "/" + p.getMetadata().getName()));
        }
      }
    }
    if (moving.size() > maxEvictions(rules)) {
      return Optional.of(new Unconsolidatable.TooManyEvictions(moving.size(), maxEvictions(rules)));
    }
    return Optional.empty();
  }

  static int maxEvictions(PodEvictor rules) {
    return rules.maxEvictions() == null ? 20 : rules.maxEvictions();
  }

  /** Strictly below the threshold; a node with none of the resource counts as fully used. */
  private static boolean underUsed(long requested, long allocatable, int minimumPercent) {
    return allocatable > 0 && requested * 100 < (long) minimumPercent * allocatable;
  }

  private static int percent(long requested, long allocatable) {
    return allocatable <= 0 ? 100 : (int) Math.round(100.0 * requested / allocatable);
  }
}
