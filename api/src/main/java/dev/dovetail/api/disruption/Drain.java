package dev.dovetail.api.disruption;

import dev.dovetail.api.karpenter.v1.Durations;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.Tolerations;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * Which pods a drain waits for and in what order, as Karpenter drains: one function for the
 * provisioner's NodeClaim termination (fabric8 pods) and the interrupt listener's drain before a spot
 * reclaim ({@link DrainPod}s read from JSON).
 */
public final class Drain {
  /** Karpenter's pod (and node) annotation that blocks voluntary disruption and makes a drain wait for the pod. */
  public static final String DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt";
  /**
   * Karpenter's NodeClaim annotation with the time (RFC 3339) by which its node must be drained: pods still
   * there then are deleted, PodDisruptionBudgets and do-not-disrupt notwithstanding (node repair sets it to
   * the deletion time).
   */
  public static final String TERMINATION_TIMESTAMP = "karpenter.sh/nodeclaim-termination-timestamp";
  private static final String DISRUPTED_EFFECT = "NoSchedule";

  private Drain() {
  }

  /** Drain tiers, lowest first: non-critical non-DaemonSet, non-critical DaemonSet, critical, critical DaemonSet. */
  public static int tier(Pod pod) {
    return tier(DrainPod.of(pod));
  }

  /** {@link #tier(Pod)} of the drain's view of a pod. */
  public static int tier(DrainPod pod) {
    boolean critical = "system-cluster-critical".equals(pod.priorityClassName()) || "system-node-critical".equals(pod.priorityClassName());
    return (critical ? 2 : 0) + (pod.daemonSet() ? 1 : 0);
  }

  /** Pods a drain waits for: not mirror pods, not finished, not tolerating the disrupted taint. */
  public static boolean drainable(Pod pod) {
    return drainable(DrainPod.of(pod));
  }

  /** {@link #drainable(Pod)} of the drain's view of a pod. */
  public static boolean drainable(DrainPod pod) {
    if (mirrorOrFinished(pod)) {
      return false;
    }
    return pod.tolerations().stream().noneMatch(t -> Tolerations.tolerates(t.key(), t.operator(), t.value(), t.effect(),
        WellKnownLabels.DISRUPTED_TAINT, null, DISRUPTED_EFFECT));
  }

  /**
   * A pod that would need a new home if its node went (Karpenter's "reschedulable"): not finished, not
   * being deleted, not a DaemonSet's (it runs on every node), not a static pod's mirror (the kubelet owns it).
   */
  public static boolean reschedulable(Pod pod) {
    DrainPod p = DrainPod.of(pod);
    return !p.daemonSet() && p.deletionTimestamp() == null && !mirrorOrFinished(p);
  }

  /** A static pod's mirror (the kubelet owns it) or a pod that has finished: neither is evicted nor moved. */
  private static boolean mirrorOrFinished(DrainPod pod) {
    return pod.annotations().containsKey("kubernetes.io/config.mirror") || "Succeeded".equals(pod.phase()) || "Failed".equals(pod.phase());
  }

  /**
   * Whether {@code karpenter.sh/do-not-disrupt} protects the pod now: {@code "true"}, or a duration
   * (30m, 1h: Karpenter v1.12) that has not run out since the pod started. Other values protect nothing,
   * as in Karpenter. A drain does not evict such a pod but waits for it (up to a terminationGracePeriod).
   */
  public static boolean doNotDisrupt(Pod pod, Instant now) {
    return doNotDisrupt(DrainPod.of(pod), now);
  }

  /** {@link #doNotDisrupt(Pod, Instant)} of the drain's view of a pod. */
  public static boolean doNotDisrupt(DrainPod pod, Instant now) {
    String value = pod.annotations().get(DO_NOT_DISRUPT);
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

  private static Optional<Instant> started(DrainPod pod) {
    String time = pod.startTime() != null ? pod.startTime() : pod.creationTimestamp();
    try {
      return Optional.ofNullable(time).map(Instant::parse);
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }
}
