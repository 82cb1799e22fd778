package dev.dovetail.api.interruption;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.disruption.DrainPod;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The marks an interruption leaves, the same whoever notices it (the per-node agent from IMDS, the
 * provisioner's queue mode from SQS): NoSchedule taints and a cordon on the node, and the
 * {@link DovetailLabels#INTERRUPTION} annotation on its NodeClaim, which makes the provisioner launch the
 * replacement at once. The annotation reads {@code <kind>@<instant>}.
 *
 * <p>Pure: what to write, as merge patches of plain values (maps, lists, strings, booleans, as JSON
 * reads); each caller sends them with its own API client.
 */
public final class NodeMarks {
  public static final String SPOT_INTERRUPTION = "spot-interruption";
  public static final String REBALANCE_RECOMMENDATION = "rebalance-recommendation";
  public static final String SCHEDULED_CHANGE = "scheduled-change";
  public static final String INSTANCE_STOPPING = "instance-stopping";
  public static final String INSTANCE_TERMINATING = "instance-terminating";
  /**
   * The NodeClaim annotation the provisioner adds to an interrupted claim once every pod of its node has
   * room on a Ready node elsewhere (the replacement it launched for them is Initialized, or there was
   * room already): the drain waits no longer. Its value is the time it was written.
   */
  public static final String REPLACEMENT_READY = DovetailLabels.REPLACEMENT_READY;
  /** How long before a spot interruption's drain deadline evictions start at the latest, by default (agent and provisioner). */
  public static final Duration DEFAULT_EVICTION_LEAD = Duration.ofSeconds(45);
  /** What a drain leaves each pod beyond its termination grace period: the eviction call, the kubelet's own delay. */
  public static final Duration EVICTION_SLACK = Duration.ofSeconds(10);
  /** The NodeClaim annotation the marks go in. */
  public static final String ANNOTATION = DovetailLabels.INTERRUPTION;
  private static final String NO_SCHEDULE = "NoSchedule";

  private NodeMarks() {
  }

  /**
   * What the taint patch needs to know of a node, as read from the API server.
   *
   * @param taints its taints as JSON objects (key, value, effect, timeAdded, ...), kept whole: a merge
   *     patch replaces the list, so they go back as they were
   * @param unschedulable whether it is cordoned
   * @param resourceVersion the version read, which guards the patch
   */
  public record NodeState(List<Map<String, Object>> taints, boolean unschedulable, String resourceVersion) {
    public NodeState {
      taints = taints == null ? List.of() : List.copyOf(taints);
      if (resourceVersion == null || resourceVersion.isEmpty()) {
        throw new IllegalArgumentException("a node read from the API server has a resourceVersion");
      }
    }
  }

  /** The taints of a spot interruption notice: {@code karpenter.sh/disrupted} and ours with the action (stop, terminate, hibernate). */
  public static Map<String, String> spotInterruptionTaints(String action) {
    return Map.of(WellKnownLabels.DISRUPTED_TAINT, "", DovetailLabels.SPOT_INTERRUPTION_TAINT, action);
  }

  /**
   * The merge patch that adds the NoSchedule taints (key to value) the node lacks, by key, and, if asked,
   * cordons it; empty when there is nothing to change. It carries the node's resource version, so the
   * API server refuses it (409) if the node changed since it was read: a taint added meanwhile by the
   * kubelet, kwok or Karpenter is never lost. Read the node again and retry on a conflict.
   */
  public static Optional<Map<String, Object>> taintPatch(NodeState node, Map<String, String> taints, boolean cordon) {
    List<Map<String, Object>> next = new ArrayList<>(node.taints());
    new TreeMap<>(taints).forEach((key, value) -> {
      if (node.taints().stream().noneMatch(t -> key.equals(t.get("key")) && NO_SCHEDULE.equals(t.get("effect")))) {
        Map<String, Object> taint = new LinkedHashMap<>();
        taint.put("key", key);
        taint.put("value", value);
        taint.put("effect", NO_SCHEDULE);
        next.add(taint);
      }
    });
    if (next.size() == node.taints().size() && (node.unschedulable() || !cordon)) {
      return Optional.empty();
    }
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("taints", next);
    if (cordon) {
      spec.put("unschedulable", true);
    }
    Map<String, Object> patch = new LinkedHashMap<>();
    patch.put("metadata", Map.of("resourceVersion", node.resourceVersion()));
    patch.put("spec", spec);
    return Optional.of(patch);
  }

  /** The merge patch that sets the NodeClaim's annotation to {@code notice}, touching nothing else. */
  public static Map<String, Object> annotationPatch(String notice) {
    return Map.of("metadata", Map.of("annotations", Map.of(ANNOTATION, notice)));
  }

  /**
   * Whether a claim whose {@link DovetailLabels#INTERRUPTION} annotation is {@code current} (null: none)
   * keeps it for {@code notice}: it says the same, or it is a spot interruption and the notice milder (a
   * rebalance recommendation often arrives with or after the interruption warning).
   */
  public static boolean alreadyMarked(String current, String notice) {
    return notice.equals(current) || current != null && current.startsWith(SPOT_INTERRUPTION) && !notice.startsWith(SPOT_INTERRUPTION);
  }

  /** The annotation value for a notice of this kind about this instant. */
  public static String notice(String kind, Instant at) {
    return kind + "@" + at;
  }

  /**
   * The instant a drain ahead of a spot interruption starts evicting at the latest. Until then it holds
   * its evictions while the provisioner launches the pods' replacement, so the pods keep running instead of
   * waiting pending for a node to boot; it starts at once when the claim says {@link #REPLACEMENT_READY}.
   * That is {@code lead} before the drain's deadline, or each pod's termination grace period plus
   * {@link #EVICTION_SLACK} before it if that is longer, so every pod still ends gracefully. A zero or
   * negative {@code lead} holds nothing (the deadline less the grace periods is then still the latest start).
   */
  public static Instant evictionsStartBy(Instant drainDeadline, Duration lead, List<DrainPod> pods) {
    Duration graceful = pods.stream().map(DrainPod::grace).max(Duration::compareTo).orElse(Duration.ZERO).plus(EVICTION_SLACK);
    return drainDeadline.minus(lead.compareTo(graceful) > 0 ? lead : graceful);
  }

  /**
   * Whether a drain ahead of a spot interruption still holds its evictions at {@code now}: waiting for the
   * replacement is on ({@code lead} positive), the claim (whose {@link #REPLACEMENT_READY} annotation is
   * {@code replacementReady}, null when absent) does not say the pods have room yet, and the latest start
   * ({@link #evictionsStartBy}) is still ahead.
   */
  public static boolean holdEvictions(Instant now, Instant drainDeadline, Duration lead, List<DrainPod> pods, String replacementReady) {
    return (lead.compareTo(Duration.ZERO) > 0) && replacementReady == null && now.isBefore(evictionsStartBy(drainDeadline, lead, pods));
  }

  /** The merge patch that says the claim's pods have Ready room elsewhere (at {@code at}). */
  public static Map<String, Object> replacementReadyPatch(Instant at) {
    return Map.of("metadata", Map.of("annotations", Map.of(REPLACEMENT_READY, at.toString())));
  }

  /** When a spot-interruption annotation says the instance goes away, if it says so. */
  public static Optional<Instant> interruptionTime(String annotation) {
    if (annotation == null || !annotation.startsWith(SPOT_INTERRUPTION + "@")) {
      return Optional.empty();
    }
    try {
      return Optional.of(Instant.parse(annotation.substring(SPOT_INTERRUPTION.length() + 1)));
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }
}
