package dev.dovetail.api.disruption;

import dev.dovetail.api.karpenter.v1.Durations;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.Tolerations;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.TaintBuilder;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * Which pods a drain waits for and in what order, as Karpenter drains: one function for the
 * provisioner's NodeClaim termination and the interrupt listener's drain before a spot reclaim.
 */
public final class Drain {
  /** Karpenter's pod (and node) annotation that blocks voluntary disruption and makes a drain wait for the pod. */
  public static final String DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt";
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

  /**
   * Whether {@code karpenter.sh/do-not-disrupt} protects the pod now: {@code "true"}, or a duration
   * (30m, 1h: Karpenter v1.12) that has not run out since the pod started. Other values protect nothing,
   * as in Karpenter. A drain does not evict such a pod but waits for it (up to a terminationGracePeriod).
   */
  public static boolean doNotDisrupt(Pod pod, Instant now) {
    String value = pod.getMetadata().getAnnotations() == null ? null : pod.getMetadata().getAnnotations().get(DO_NOT_DISRUPT);
    if (value == null) {
      return false;
    }
    if ("true".equals(value)) {
      return true;
    }
    Optional<Duration> protection;
    try {
      protection = Durations.parse(value);
    } catch (IllegalArgumentException e) {
      return false;
    }
    Optional<Instant> started = started(pod);
    return protection.isPresent() && started.isPresent() && now.isBefore(started.get().plus(protection.get()));
  }

  private static Optional<Instant> started(Pod pod) {
    String time = pod.getStatus() != null && pod.getStatus().getStartTime() != null ? pod.getStatus().getStartTime()
        : pod.getMetadata().getCreationTimestamp();
    try {
      return Optional.ofNullable(time).map(Instant::parse);
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }
}
