package dev.dovetail.provisioner.termination;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.disruption.Drain;
import dev.dovetail.api.disruption.DrainPod;
import dev.dovetail.api.interruption.NodeMarks;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.Durations;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeClaimStatus;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.cloud.CloudProvider;
import dev.dovetail.provisioner.cloud.CloudProviderException;
import dev.dovetail.provisioner.cluster.Caches;
import dev.dovetail.provisioner.controller.Reconciliation;
import dev.dovetail.provisioner.controller.Result;
import dev.dovetail.provisioner.kube.Conditions;
import dev.dovetail.provisioner.kube.DisruptedTaint;
import dev.dovetail.provisioner.kube.Writer;
import dev.dovetail.provisioner.metrics.KarpenterMetrics;
import dev.dovetail.provisioner.nodeclaim.NodeClaims;
import dev.dovetail.runtime.Failures;
import dev.dovetail.runtime.Recorder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What happens to a deleted NodeClaim before its finalizer goes, as in Karpenter's termination
 * controller: the node is tainted {@code karpenter.sh/disrupted:NoSchedule} and excluded from load
 * balancers; its pods are evicted through the Eviction API (so PodDisruptionBudgets hold) in four
 * tiers, non-critical before critical, DaemonSet pods after the others; with a
 * {@code terminationGracePeriod}, pods that would outlast it are deleted in time and the rest at the
 * deadline; then the instance is terminated, the Node deleted and the finalizers removed.
 */
public final class Termination {
  private static final Logger LOG = LoggerFactory.getLogger(Termination.class);
  /** Pods still on a reclaimed spot node are deleted this long before the reclaim, to stop in time. */
  static final Duration RECLAIM_MARGIN = Duration.ofSeconds(15);
  static final Duration DRAIN_POLL = Duration.ofSeconds(1);
  /** The Drained=False reason while a spot-interrupted claim's drain waits for its pods' replacement. */
  static final String AWAITING_REPLACEMENT = "AwaitingReplacement";

  private final KubernetesClient client;
  private final KubernetesClient evictions;
  private final Caches caches;
  private final CloudProvider cloud;
  private final Recorder events;
  private final KarpenterMetrics metrics;
  private final Clock clock;
  private final Writer writer;
  private final Duration evictionLead;
  /** Claims whose held drain was logged, so it is logged once; pruned as they go. */
  private final Set<String> holdLogged = ConcurrentHashMap.newKeySet();

  /**
   * @param evictions a client that does not retry refused requests itself: a 429 from a disruption
   *     budget must come back at once, so the drain retries on its own schedule without holding a thread
   * @param evictionLead for a spot-interrupted claim, how long before its drain deadline evictions start at the latest while its
   *     pods' replacement is not Ready ({@link NodeMarks#holdEvictions}); zero evicts at once
   */
  public Termination(KubernetesClient client, KubernetesClient evictions, Caches caches, CloudProvider cloud, Recorder events,
      KarpenterMetrics metrics, Clock clock, Duration evictionLead) {
    this.client = client;
    this.evictions = evictions;
    this.caches = caches;
    this.cloud = cloud;
    this.events = events;
    this.metrics = metrics;
    this.clock = clock;
    this.writer = new Writer(client);
    this.evictionLead = evictionLead;
  }

  /** Reconciles a NodeClaim being deleted (others are the lifecycle's). */
  public CompletionStage<Result> reconcile(String name, Reconciliation context) {
    Optional<NodeClaim> cached = caches.nodeClaim(name);
    if (cached.isEmpty() || !NodeClaims.deleting(cached.get())) {
      return Result.done();
    }
    return reconcile(cached.get(), context.with("NodePool", NodeClaims.pool(cached.get())));
  }

  private CompletionStage<Result> reconcile(NodeClaim claim, Reconciliation withPool) {
    List<String> finalizers = claim.getMetadata().getFinalizers();
    if (finalizers == null || !finalizers.contains(NodeClaims.TERMINATION_FINALIZER)) {
      return Result.done();
    }
    Optional<Node> node = nodeOf(claim);
    Reconciliation context = withPool.with("Node", node.map(n -> n.getMetadata().getName()).orElse(null));
    if (node.isPresent()) {
      Node n = node.get();
      DisruptedTaint.add(writer, n, true);
      Optional<Duration> pending = drain(claim, n, context);
      if (pending.isPresent()) {
        return Result.requeue(pending.get());
      }
      if (!Conditions.isTrue(conditions(claim), ConditionTypes.DRAINED)) {
        setCondition(claim, ConditionTypes.DRAINED, Condition.Status.True, "Drained", "", context);
        metrics.nodeDrained(NodeClaims.pool(claim));
      }
    }
    String providerId = claim.getStatus() == null ? null : claim.getStatus().providerID();
    if (providerId == null) {
      // Never launched (or the launch result was never recorded): make sure nothing runs for it.
      return cloud.delete(claim).handle((ok, error) -> {
        finishOrRetry(claim, node, error, context);
        return Result.DONE;
      });
    }
    return cloud.delete(claim).handle((ok, error) -> {
      Throwable cause = Failures.cause(error);
      if (cause != null && !(cause instanceof CloudProviderException.NotFound)) {
        metrics.cloudProviderError("Delete", cloud.name(), cause.getClass().getSimpleName());
        throw new CompletionException(cause);
      }
      finish(claim, node, context);
      return Result.DONE;
    });
  }

  private void finishOrRetry(NodeClaim claim, Optional<Node> node, Throwable error, Reconciliation context) {
    Throwable cause = Failures.cause(error);
    if (cause != null && !(cause instanceof CloudProviderException.NotFound)) {
      throw new CompletionException(cause);
    }
    finish(claim, node, context);
  }

  /** The instance is gone: delete the Node and release both finalizers. */
  private void finish(NodeClaim claim, Optional<Node> node, Reconciliation context) {
    String pool = NodeClaims.pool(claim);
    Map<String, String> labels = claim.getMetadata().getLabels() == null ? Map.of() : claim.getMetadata().getLabels();
    if (node.isPresent()) {
      String nodeName = node.get().getMetadata().getName();
      writer.delete(Node.class, nodeName);
      removeFinalizer(Node.class, nodeName, node.get().getMetadata().getFinalizers());
      metrics.nodeTerminated(pool, labels.getOrDefault(WellKnownLabels.ZONE, ""));
      String created = node.get().getMetadata().getCreationTimestamp();
      if (created != null) {
        metrics.nodeLifetime(pool, Duration.between(Instant.parse(created), clock.instant()));
      }
    }
    removeFinalizer(NodeClaim.class, claim.getMetadata().getName(), claim.getMetadata().getFinalizers());
    metrics.nodeClaimTerminated(pool, labels.getOrDefault(WellKnownLabels.CAPACITY_TYPE, ""), labels.getOrDefault(WellKnownLabels.ZONE, ""));
    metrics.terminationDuration(pool, Duration.between(Instant.parse(claim.getMetadata().getDeletionTimestamp()), clock.instant()));
    context.atInfo(LOG).log("NodeClaim {} terminated{}", claim.getMetadata().getName(), node.map(n -> " (node " + n.getMetadata().getName() + " deleted)").orElse(""));
  }

  private <T extends HasMetadata> void removeFinalizer(Class<T> type, String name, List<String> current) {
    if (current == null || !current.contains(NodeClaims.TERMINATION_FINALIZER)) {
      return;
    }
    List<String> kept = new ArrayList<>(current);
    kept.remove(NodeClaims.TERMINATION_FINALIZER);
    try {
      writer.patchMetadata(type, name, Map.of("finalizers", kept));
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
    }
  }

  private Optional<Node> nodeOf(NodeClaim claim) {
    NodeClaimStatus s = claim.getStatus();
    if (s != null && s.providerID() != null) {
      Optional<Node> byId = caches.nodeByProviderId(s.providerID());
      if (byId.isPresent()) {
        return byId;
      }
    }
    return s == null || s.nodeName() == null ? Optional.empty() : caches.node(s.nodeName());
  }

  /** Evicts what may go now; empty once nothing is left to wait for, else when to look again. */
  private Optional<Duration> drain(NodeClaim claim, Node node, Reconciliation context) {
    List<Pod> remaining = caches.podsOn(node.getMetadata().getName()).stream().filter(Drain::drainable).toList();
    if (remaining.isEmpty()) {
      return Optional.empty();
    }
    Optional<Instant> deadline = deadline(claim);
    Instant now = clock.instant();
    if (deadline.isPresent() && !now.isBefore(deadline.get())) {
      // Past the deadline: whatever is still there goes now, still terminating or not (a broken node's kubelet never confirms).
      for (Pod p : remaining) {
        about(context, p).atInfo(LOG).log("force-deleting pod {}/{}: the drain deadline of NodeClaim {} has passed",
            p.getMetadata().getNamespace(), p.getMetadata().getName(), claim.getMetadata().getName());
        deletePod(p, 0);
      }
      return Optional.of(Duration.ofSeconds(1));
    }
    Optional<Instant> reclaim = reclaimDeadline(claim);
    List<DrainPod> pods = reclaim.isPresent() ? remaining.stream().map(DrainPod::of).toList() : List.of();
    if (reclaim.isPresent() && NodeMarks.holdEvictions(now, reclaim.get(), evictionLead, pods, NodeClaims.annotation(claim, NodeMarks.REPLACEMENT_READY))) {
      // A spot reclaim: the pods keep running while their replacement boots (the disruption controller launched it).
      Instant latest = NodeMarks.evictionsStartBy(reclaim.get(), evictionLead, pods);
      if (holdLogged.add(claim.getMetadata().getName())) {
        context.atInfo(LOG).log("holding the evictions of NodeClaim {} until its pods have Ready room elsewhere, or {} at the latest",
            claim.getMetadata().getName(), latest);
      }
      if (!Conditions.get(conditions(claim), ConditionTypes.DRAINED).map(c -> c.reason().equals(AWAITING_REPLACEMENT)).orElse(false)) {
        setCondition(claim, ConditionTypes.DRAINED, Condition.Status.False, AWAITING_REPLACEMENT, "the pods keep running until their "
            + "replacement is Ready (annotation " + NodeMarks.REPLACEMENT_READY + "), or until " + latest + " at the latest", context);
      }
      return Optional.of(DRAIN_POLL);
    }
    if (holdLogged.remove(claim.getMetadata().getName())) {
      context.atInfo(LOG).log("evicting the pods of NodeClaim {} now: {}", claim.getMetadata().getName(),
          NodeClaims.annotation(claim, NodeMarks.REPLACEMENT_READY) != null ? "their replacement is Ready" : "the latest start has come");
    }
    if (deadline.isPresent()) {
      for (Pod p : remaining) {
        long grace = p.getSpec().getTerminationGracePeriodSeconds() == null ? 30 : p.getSpec().getTerminationGracePeriodSeconds();
        Instant mustStart = deadline.get().minusSeconds(grace);
        if (!now.isBefore(mustStart) && p.getMetadata().getDeletionTimestamp() == null) {
          long left = Math.max(1, Duration.between(now, deadline.get()).toSeconds());
          about(context, p).atInfo(LOG).log("deleting pod {}/{} (grace {}s) to finish before the terminationGracePeriod of NodeClaim {}",
              p.getMetadata().getNamespace(), p.getMetadata().getName(), left, claim.getMetadata().getName());
          deletePod(p, left);
        }
      }
    }
    int lowest = remaining.stream().mapToInt(Drain::tier).min().orElse(0);
    boolean blocked = false;
    List<Pod> protectedPods = new ArrayList<>();
    for (Pod p : remaining) {
      if (Drain.tier(p) != lowest || p.getMetadata().getDeletionTimestamp() != null) {
        continue;
      }
      if (Drain.doNotDisrupt(p, now)) {
        protectedPods.add(p);  // waited for, not evicted (the terminationGracePeriod above still bounds the wait)
        continue;
      }
      blocked |= !evict(p, disruptionReason(claim), context);
    }
    if (blocked) {
      reportDrainWait(claim, context, "PodsBlockedByDisruptionBudget", "eviction refused (PodDisruptionBudget); retrying",
          "eviction of pods on node " + node.getMetadata().getName() + " refused by a PodDisruptionBudget; retrying");
    } else if (!protectedPods.isEmpty()) {
      reportDrainWait(claim, context, "PodsNotDisruptable", "waiting for pods annotated " + Drain.DO_NOT_DISRUPT + ": " + names(protectedPods),
          "waiting for " + protectedPods.size() + " pod(s) on node " + node.getMetadata().getName() + " annotated " + Drain.DO_NOT_DISRUPT
              + " (" + names(protectedPods) + "); they are not evicted"
              + (deadline.isPresent() ? " and are deleted in time for the drain deadline" : ""));
    }
    return Optional.of(blocked ? Duration.ofSeconds(2) : DRAIN_POLL);
  }

  /** Drained=False with the reason, and a FailedDraining event, once per reason (not on every poll). */
  private void reportDrainWait(NodeClaim claim, Reconciliation context, String reason, String conditionMessage, String eventMessage) {
    if (Conditions.get(conditions(claim), ConditionTypes.DRAINED).map(c -> c.reason().equals(reason)).orElse(false)) {
      return;
    }
    setCondition(claim, ConditionTypes.DRAINED, Condition.Status.False, reason, conditionMessage, context);
    events.warning(claim, "FailedDraining", eventMessage);
  }

  private static String names(List<Pod> pods) {
    return pods.stream().limit(5).map(p -> p.getMetadata().getNamespace() + "/" + p.getMetadata().getName())
        .collect(Collectors.joining(", ")) + (pods.size() > 5 ? ", ..." : "");
  }

  /** Why the claim is disrupted (its {@code DisruptionReason} condition's reason: Underutilized, Drifted, ...), or empty. */
  private static String disruptionReason(NodeClaim claim) {
    return Conditions.get(conditions(claim), ConditionTypes.DISRUPTION_REASON).map(c -> c.reason()).orElse("");
  }

  private boolean evict(Pod pod, String reason, Reconciliation context) {
    try {
      boolean ok = evictions.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName()).evict();
      metrics.evictionRequest(ok ? 200 : 429);
      if (ok) {
        metrics.podDrained(reason);
        events.normal(pod, "Evicted", "Evicted pod: node is being terminated");
        about(context, pod).atDebug(LOG).log("evicted pod {}/{}", pod.getMetadata().getNamespace(), pod.getMetadata().getName());
      }
      return ok;
    } catch (KubernetesClientException e) {
      metrics.evictionRequest(e.getCode());
      if (e.getCode() == 404 || e.getCode() == 409) {
        return true;
      }
      about(context, pod).atWarn(LOG).log("evicting pod {}/{} failed: {}", pod.getMetadata().getNamespace(), pod.getMetadata().getName(),
          e.getMessage());
      return false;
    }
  }

  /** The reconcile's context with the pod a line is about. */
  private static Reconciliation about(Reconciliation context, Pod pod) {
    return context.with("Pod", pod.getMetadata().getNamespace(), pod.getMetadata().getName());
  }

  private void deletePod(Pod pod, long graceSeconds) {
    try {
      client.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName()).withGracePeriod(graceSeconds).delete();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
    }
  }

  /**
   * When the node must be empty: the deletion time plus the terminationGracePeriod, for a reclaimed spot
   * instance the reclaim time less a margin for the last pods to stop, or the claim's
   * {@code karpenter.sh/nodeclaim-termination-timestamp} (node repair sets it), whichever is first.
   */
  static Optional<Instant> deadline(NodeClaim claim) {
    if (claim.getMetadata().getDeletionTimestamp() == null) {
      return Optional.empty();
    }
    String tgp = claim.getSpec().terminationGracePeriod();
    Optional<Instant> grace = tgp == null ? Optional.empty()
        : Durations.parse(tgp).map(d -> Instant.parse(claim.getMetadata().getDeletionTimestamp()).plus(d));
    Optional<Instant> reclaim = reclaimDeadline(claim);
    Optional<Instant> stamped = Optional.ofNullable(NodeClaims.annotation(claim, Drain.TERMINATION_TIMESTAMP)).flatMap(Termination::instant);
    return Stream.of(grace, reclaim, stamped).flatMap(Optional::stream).min(Instant::compareTo);
  }

  /** For a claim whose instance a spot interruption reclaims: when its drain must be done (the reclaim less a margin). */
  static Optional<Instant> reclaimDeadline(NodeClaim claim) {
    return NodeMarks.interruptionTime(NodeClaims.annotation(claim, DovetailLabels.INTERRUPTION)).map(t -> t.minus(RECLAIM_MARGIN));
  }

  private static Optional<Instant> instant(String value) {
    try {
      return Optional.of(Instant.parse(value.trim()));
    } catch (DateTimeParseException e) {
      return Optional.empty();  // not a time: no deadline from it, as Karpenter ignores it
    }
  }

  private static List<Condition> conditions(NodeClaim claim) {
    return claim.getStatus() == null ? null : claim.getStatus().conditions();
  }

  private void setCondition(NodeClaim claim, String type, Condition.Status status, String reason, String message,
      Reconciliation context) {
    NodeClaimStatus s = claim.getStatus();
    List<Condition> updated = Conditions.set(conditions(claim), type, status, reason, message, NodeClaims.generation(claim), clock.instant());
    NodeClaimStatus next = s == null ? new NodeClaimStatus(null, null, null, null, null, null, updated)
        : new NodeClaimStatus(s.nodeName(), s.providerID(), s.imageID(), s.capacity(), s.allocatable(), s.lastPodEventTime(), updated);
    try {
      writer.writeStatus(claim, next);
    } catch (KubernetesClientException e) {
      context.atDebug(LOG).log("status of NodeClaim {} not updated: {}", claim.getMetadata().getName(), e.getMessage());
    }
  }
}
