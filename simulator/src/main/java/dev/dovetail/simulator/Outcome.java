package dev.dovetail.simulator;

import java.time.Duration;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one strategy's run came to.
 *
 * @param cost dollars over the period (every node's price for the time it ran, warning period included)
 * @param bucket the length of each entry of {@code costSeries}
 * @param costSeries the cluster's cost in each bucket of the period
 * @param podSeconds replica-seconds asked for (each replica from its creation to its deletion or the end)
 * @param pendingPodSeconds of those, the seconds replicas spent without a Ready node, by why they waited
 * @param interruptions replicas evicted by spot interruptions, by workload
 * @param fallbacks NodeClaims launched on on-demand in place of spot
 * @param reverseFallbacks fallback nodes replaced with spot
 * @param fallenBack replicas on fallback capacity as each outage ended
 * @param backWithinTwoIntervals of those still asked for two reverse-fallback intervals later, the ones on spot then
 * @param stillAsked the fallen-back replicas still asked for two intervals after their outage ended
 * @param spotShare the share of replica-seconds on Ready spot nodes
 * @param launches NodeClaims launched
 * @param moved replicas moved off nodes by disruption (consolidation, reverse fallback)
 */
public record Outcome(Strategy strategy, double cost, Duration bucket, List<Double> costSeries, double podSeconds, Map<PendingCause, Double> pendingPodSeconds,
    Map<String, Integer> interruptions, int fallbacks, int reverseFallbacks, int fallenBack, int backWithinTwoIntervals, int stillAsked,
    double spotShare, int launches, int moved) {

  /** Why a replica waited for a Ready node. */
  public enum PendingCause {
    /** A new replica (a scale-up, or a successor of one that was deleted). */
    NEW,
    /** Its node was interrupted (a spot reclaim, one pool's or an outage's). */
    INTERRUPTED,
    /** A disruption moved it and the room it was planned into was gone. */
    MOVED
  }

  public Outcome {
    costSeries = List.copyOf(costSeries);
    pendingPodSeconds = Collections.unmodifiableMap(new EnumMap<>(pendingPodSeconds));
    interruptions = Collections.unmodifiableMap(new TreeMap<>(interruptions));
  }

  /** Pod-time pending, as a share of pod-time asked for. */
  public double pendingShare() {
    return podSeconds == 0 ? 0 : pendingSeconds() / podSeconds;
  }

  /** Pod-time pending for one cause, as a share of pod-time asked for. */
  public double pendingShare(PendingCause cause) {
    return podSeconds == 0 ? 0 : pendingPodSeconds.getOrDefault(cause, 0.0) / podSeconds;
  }

  /** Replica-seconds spent pending, whatever the cause. */
  public double pendingSeconds() {
    return pendingPodSeconds.values().stream().mapToDouble(Double::doubleValue).sum();
  }

  /** The savings against {@code baseline}'s cost, as a share of it. */
  public double savingsAgainst(Outcome baseline) {
    return baseline.cost() == 0 ? 0 : 1 - cost / baseline.cost();
  }

  public int totalInterruptions() {
    return interruptions.values().stream().mapToInt(Integer::intValue).sum();
  }

  /** The share of fallen-back replicas (still asked for) back on spot within two intervals; 1 when none fell back. */
  public double backShare() {
    return stillAsked == 0 ? 1 : (double) backWithinTwoIntervals / stillAsked;
  }
}
