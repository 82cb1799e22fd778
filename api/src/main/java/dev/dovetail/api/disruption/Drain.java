package dev.dovetail.api.disruption;

import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.Tolerations;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.TaintBuilder;

/**
 * Which pods a drain waits for and in what order, as Karpenter drains: one function for the
 * provisioner's NodeClaim termination and the interrupt listener's drain before a spot reclaim.
 */
public final class Drain {
  private static final Taint DISRUPTED = new TaintBuilder().withKey(WellKnownLabels.DISRUPTED_TAINT).withEffect("NoSchedule").build();

  private Drain() {
  }

  /** Drain tiers, lowest first: non-critical non-DaemonSet, non-critical DaemonSet, critical, critical DaemonSet. */
  public static int tier(Pod pod) {
    String priorityClass = pod.getSpec() == null ? null : pod.getSpec().getPriorityClassName();
    boolean critical = "system-cluster-critical".equals(priorityClass) || "system-node-critical".equals(priorityClass);
    boolean daemon = pod.getMetadata().getOwnerReferences() != null
        && pod.getMetadata().getOwnerReferences().stream().anyMatch(r -> "DaemonSet".equals(r.getKind()) && Boolean.TRUE.equals(r.getController()));
    return (critical ? 2 : 0) + (daemon ? 1 : 0);
  }

  /** Pods a drain waits for: not mirror pods, not finished, not tolerating the disrupted taint. */
  public static boolean drainable(Pod pod) {
    var annotations = pod.getMetadata().getAnnotations();
    if (annotations != null && annotations.containsKey("kubernetes.io/config.mirror")) {
      return false;
    }
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
      return false;
    }
    return pod.getSpec() == null || pod.getSpec().getTolerations() == null
        || pod.getSpec().getTolerations().stream().noneMatch(t -> Tolerations.tolerates(t, DISRUPTED));
  }
}
