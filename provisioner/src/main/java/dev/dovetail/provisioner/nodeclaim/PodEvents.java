package dev.dovetail.provisioner.nodeclaim;

import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.provisioner.cluster.Caches;
import dev.dovetail.provisioner.controller.Reconciliation;
import dev.dovetail.provisioner.controller.Result;
import dev.dovetail.provisioner.kube.Writer;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Karpenter's {@code status.lastPodEventTime}: when a pod was last bound to a claim's node or left it
 * (finished, began terminating, or was deleted). {@code consolidateAfter} counts from it, and users read it
 * to see when a node last changed. As in Karpenter, a claim is written at most once per {@link #DEDUPE};
 * unlike Karpenter, an event inside that window is not dropped but written when the window ends, so the
 * time is never more than five seconds behind the last event.
 */
public final class PodEvents {
  public static final Duration DEDUPE = Duration.ofSeconds(5);

  private final Caches caches;
  private final Writer writer;
  private final Clock clock;
  /** What this replica wrote last, per claim: the cache may not show it yet when the next event comes. */
  private final Map<String, Instant> written = new ConcurrentHashMap<>();

  public PodEvents(Caches caches, Writer writer, Clock clock) {
    this.caches = caches;
    this.writer = writer;
    this.clock = clock;
  }

  /**
   * The node an informer event is a pod event for, if it is one: a bound pod appeared, a pod was bound,
   * or a bound pod finished or began terminating. ({@code before} is null for an add; a delete is
   * {@link #leftNode}.)
   */
  public static Optional<String> nodeOfEvent(Pod before, Pod now) {
    String node = nodeName(now);
    if (node == null) {
      return Optional.empty();
    }
    if (before == null || !node.equals(nodeName(before))) {
      return Optional.of(node);
    }
    boolean finished = terminal(now) && !terminal(before);
    boolean terminating = now.getMetadata().getDeletionTimestamp() != null && before.getMetadata().getDeletionTimestamp() == null;
    return finished || terminating ? Optional.of(node) : Optional.empty();
  }

  /** The node a deleted pod left, if it was bound. */
  public static Optional<String> leftNode(Pod deleted) {
    return Optional.ofNullable(nodeName(deleted));
  }

  /** Writes the claim's lastPodEventTime now, or asks to be called again when the dedupe window ends. */
  public CompletionStage<Result> reconcile(String claimName, Reconciliation context) {
    Optional<NodeClaim> claim = caches.nodeClaim(claimName);
    if (claim.isEmpty()) {
      written.remove(claimName);
      return Result.done();
    }
    Instant now = clock.instant();
    String recorded = claim.get().getStatus() == null ? null : claim.get().getStatus().lastPodEventTime();
    Optional<Duration> wait = waitBeforeWriting(recorded, written.get(claimName), now);
    if (wait.isPresent()) {
      return Result.requeue(wait.get());
    }
    Instant stamp = now.truncatedTo(ChronoUnit.SECONDS);  // metav1.Time: RFC 3339, whole seconds
    writer.patchStatus(NodeClaim.class, claimName, Map.of("lastPodEventTime", stamp.toString()));
    written.put(claimName, now);
    return Result.done();
  }

  /**
   * How long to wait before the next write, or empty to write now: writes are {@link #DEDUPE} apart,
   * counted from the later of the recorded time and this replica's own last write.
   */
  static Optional<Duration> waitBeforeWriting(String recorded, Instant lastWritten, Instant now) {
    Instant last = latest(parse(recorded), lastWritten);
    if (last == null || !now.isBefore(last.plus(DEDUPE))) {
      return Optional.empty();
    }
    return Optional.of(Duration.between(now, last.plus(DEDUPE)));
  }

  /** A claim that is gone needs no memory of its writes. */
  public void forget(String claimName) {
    written.remove(claimName);
  }

  private static Instant latest(Instant a, Instant b) {
    return a == null ? b : b == null || a.isAfter(b) ? a : b;
  }

  private static Instant parse(String time) {
    if (time == null || time.isBlank()) {
      return null;
    }
    try {
      return Instant.parse(time);
    } catch (DateTimeParseException e) {
      return null;  // someone else's malformed value: overwrite it
    }
  }

  private static String nodeName(Pod pod) {
    String node = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
    return node == null || node.isEmpty() ? null : node;
  }

  private static boolean terminal(Pod pod) {
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    return "Succeeded".equals(phase) || "Failed".equals(phase);
  }
}
