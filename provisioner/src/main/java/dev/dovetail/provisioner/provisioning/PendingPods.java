package dev.dovetail.provisioner.provisioning;

import dev.dovetail.api.DovetailLabels;
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
    return provisionable(pod, schedulerNames, false);
  }

  /**
   * A pod the provisioner itself nominated to a node it launched (the node is among the pod's
   * {@code dovetail.dev/planned-nodes}) but that kube-scheduler still could not place: the room planned
   * for it was taken. Unlike a nomination kube-scheduler makes while preempting, ours does not mean the
   * pod is provided for, so once it is no longer in transit it is provisioned for again.
   */
  public static boolean plannedButUnplaced(Pod pod, Set<String> schedulerNames) {
    String nominated = pod.getStatus() == null ? null : pod.getStatus().getNominatedNodeName();
    var annotations = pod.getMetadata().getAnnotations();
    return nominated != null && !nominated.isEmpty() && annotations != null
        && PodFacts.plannedNodes(annotations.get(DovetailLabels.PLANNED_NODES)).containsKey(nominated)
        && provisionable(pod, schedulerNames, true);
  }

  private static boolean provisionable(Pod pod, Set<String> schedulerNames, boolean nominationAllowed) {
    var spec = pod.getSpec();
    var status = pod.getStatus();
    if (spec == null || status == null || pod.getMetadata().getDeletionTimestamp() != null) {
      return false;
    }
    if (spec.getNodeName() != null && !spec.getNodeName().isEmpty()) {
      return false;
    }
    if (!nominationAllowed && status.getNominatedNodeName() != null && !status.getNominatedNodeName().isEmpty()) {
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
