package dev.dovetail.provisioner.provisioning;

import dev.dovetail.api.distribution.PodFacts;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import java.util.Set;

/**
 * Which pods the provisioner launches capacity for, as Karpenter decides: pods kube-scheduler tried and
 * marked {@code PodScheduled=False} with reason {@code Unschedulable}, not bound, not nominated to a
 * node kube-scheduler is preempting for, not DaemonSet or mirror pods, not being deleted or finished,
 * and for a scheduler this provisioner serves.
 */
public final class PendingPods {
  private PendingPods() {
  }

  public static boolean provisionable(Pod pod, Set<String> schedulerNames) {
    var spec = pod.getSpec();
    var status = pod.getStatus();
    if (spec == null || status == null || pod.getMetadata().getDeletionTimestamp() != null) {
      return false;
    }
    if (spec.getNodeName() != null && !spec.getNodeName().isEmpty()) {
      return false;
    }
    if (status.getNominatedNodeName() != null && !status.getNominatedNodeName().isEmpty()) {
      return false;
    }
    if (!"Pending".equals(status.getPhase()) && status.getPhase() != null) {
      return false;
    }
    String scheduler = spec.getSchedulerName() == null ? "default-scheduler" : spec.getSchedulerName();
    if (!schedulerNames.contains(scheduler)) {
      return false;
    }
    if (!unschedulable(pod)) {
      return false;
    }
    PodFacts facts = PodFacts.of(pod);
    return !facts.mirror() && facts.owner().map(o -> !o.kind().equals("DaemonSet")).orElse(true);
  }

  /** kube-scheduler has tried the pod and found no node. */
  public static boolean unschedulable(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getConditions() == null) {
      return false;
    }
    for (PodCondition c : pod.getStatus().getConditions()) {
      if ("PodScheduled".equals(c.getType()) && "False".equals(c.getStatus()) && "Unschedulable".equals(c.getReason())) {
        return true;
      }
    }
    return false;
  }
}
