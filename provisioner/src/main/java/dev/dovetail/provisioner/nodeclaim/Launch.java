package dev.dovetail.provisioner.nodeclaim;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeClaimStatus;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.cloud.CloudProvider;
import dev.dovetail.provisioner.cloud.CloudProviderException;
import dev.dovetail.provisioner.cloud.Instance;
import dev.dovetail.provisioner.cluster.Caches;
import dev.dovetail.provisioner.controller.Reconciliation;
import dev.dovetail.provisioner.controller.Result;
import dev.dovetail.provisioner.kube.Conditions;
import dev.dovetail.provisioner.kube.Writer;
import dev.dovetail.provisioner.metrics.KarpenterMetrics;
import dev.dovetail.runtime.Failures;
import dev.dovetail.runtime.Recorder;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Launch ({@code Launched}): the cloud provider creates the claim's instance (idempotently: a retry or a
 * restart gets the instance already made) once its EC2NodeClass exists and is Ready; its provider ID, image,
 * capacity and the labels its type and offering give go on the claim. A claim whose offerings have no capacity is deleted so its pods are
 * simulated again without them; other failures are retried with backoff and shown as
 * {@code Launched=False}.
 */
final class Launch implements Step {
  private static final Logger LOG = LoggerFactory.getLogger(Launch.class);
  private static final Duration NODE_CLASS_RETRY = Duration.ofSeconds(30);

  private final Caches caches;
  private final CloudProvider cloud;
  private final Writer writer;
  private final Recorder events;
  private final KarpenterMetrics metrics;
  private final Deletions deletions;
  private final Clock clock;

  Launch(Caches caches, CloudProvider cloud, Writer writer, Recorder events, KarpenterMetrics metrics, Deletions deletions, Clock clock) {
    this.caches = caches;
    this.cloud = cloud;
    this.writer = writer;
    this.events = events;
    this.metrics = metrics;
    this.deletions = deletions;
    this.clock = clock;
  }

  @Override
  public CompletionStage<Outcome> reconcile(State state, Reconciliation context) {
    NodeClaim claim = state.claim();
    if (NodeClaims.isTrue(claim, ConditionTypes.LAUNCHED)) {
      return Outcome.next(state);
    }
    var ref = claim.getSpec().nodeClassRef();
    Optional<EC2NodeClass> nodeClass = ref == null ? Optional.empty() : caches.nodeClass(ref.name());
    if (nodeClass.isEmpty()) {
      NodeClaim written = write(claim, NodeClaims.withCondition(claim, ConditionTypes.LAUNCHED, Condition.Status.False, "NodeClassNotFound",
          "EC2NodeClass " + (ref == null ? "(none)" : ref.name()) + " not found", clock.instant()));
      return Outcome.stop(state.withClaim(written), Result.after(NODE_CLASS_RETRY));
    }
    Optional<String> notReady = notReady(nodeClass.get());
    if (notReady.isPresent()) {
      // As Karpenter: nothing launches from a class whose subnets, security groups or images are not resolved
      // (the launch would ignore them); the class turning Ready brings the claim back.
      NodeClaim written = write(claim, NodeClaims.withCondition(claim, ConditionTypes.LAUNCHED, Condition.Status.False, "NodeClassNotReady",
          "EC2NodeClass " + ref.name() + " is not ready: " + notReady.get(), clock.instant()));
      return Outcome.stop(state.withClaim(written), Result.after(NODE_CLASS_RETRY));
    }
    long start = System.nanoTime();
    return cloud.create(claim, nodeClass.get()).handle((instance, error) -> {
      metrics.cloudProviderDuration("Create", cloud.name()).record(Duration.ofNanos(System.nanoTime() - start));
      if (error == null) {
        return new Outcome(state.withClaim(launched(claim, instance, context)), Optional.empty());
      }
      Throwable cause = Failures.cause(error);
      String name = claim.getMetadata().getName();
      if (cause instanceof CloudProviderException.InsufficientCapacity ice) {
        metrics.cloudProviderError("Create", cloud.name(), "InsufficientCapacityError");
        metrics.launchFailure("", NodeClaims.capacityType(claim), "InsufficientCapacity");
        deletions.giveUp(claim, context, "InsufficientCapacityError", "NodeClaim " + name + " event: creating nodeclaim, " + ice.getMessage(),
            null);
        return Outcome.stopped(state, Result.DONE);
      }
      metrics.cloudProviderError("Create", cloud.name(), cause.getClass().getSimpleName());
      events.warning(claim, "LaunchFailed", "launching NodeClaim failed: " + cause.getMessage());
      write(claim, NodeClaims.withCondition(claim, ConditionTypes.LAUNCHED, Condition.Status.False, "LaunchFailed", cause.getMessage(),
          clock.instant()));
      throw new CompletionException(cause);
    });
  }

  /** Why the node class is not Ready (its Ready condition's message), if it is not. */
  static Optional<String> notReady(EC2NodeClass nodeClass) {
    List<Condition> conditions = nodeClass.getStatus() == null ? null : nodeClass.getStatus().conditions();
    Optional<Condition> ready = Conditions.get(conditions, ConditionTypes.READY);
    if (ready.isPresent() && ready.get().isTrue()) {
      return Optional.empty();
    }
    return Optional.of(ready.map(c -> c.message() == null || c.message().isEmpty() ? c.reason() : c.message()).orElse("not resolved yet"));
  }

  /** Writes the status only if it changed; returns the claim as it now is. */
  private NodeClaim write(NodeClaim claim, NodeClaimStatus status) {
    return status.equals(claim.getStatus()) ? claim : writer.writeStatus(claim, status);
  }

  private NodeClaim launched(NodeClaim claim, Instance instance, Reconciliation context) {
    String name = claim.getMetadata().getName();
    Map<String, String> labels = new LinkedHashMap<>(instance.labels());
    labels.remove(WellKnownLabels.HOSTNAME);
    // The label patch returns the new resourceVersion, which the status update then holds to.
    NodeClaim patched = writer.patchMetadata(NodeClaim.class, name, Map.of("labels", labels));
    NodeClaimStatus before = claim.getStatus();
    List<Condition> conditions = before == null ? null : before.conditions();
    Instant now = clock.instant();
    long generation = NodeClaims.generation(claim);
    conditions = Conditions.set(conditions, ConditionTypes.LAUNCHED, Condition.Status.True, "Launched", "", generation, now);
    for (String pending : List.of(ConditionTypes.REGISTERED, ConditionTypes.INITIALIZED)) {
      if (Conditions.get(conditions, pending).isEmpty()) {
        conditions = Conditions.set(conditions, pending, Condition.Status.Unknown, "AwaitingReconciliation", "object is awaiting reconciliation",
            generation, now);
      }
    }
    conditions = NodeClaims.rollUp(conditions, generation, now);
    NodeClaimStatus status = new NodeClaimStatus(null, instance.providerId(), instance.imageId(), instance.capacity().toQuantities(),
        instance.allocatable().toQuantities(), before == null ? null : before.lastPodEventTime(), conditions);
    NodeClaim written = writer.writeStatus(patched != null ? patched : claim, status);
    metrics.nodeClaimLaunched(NodeClaims.pool(claim), instance.capacityType().label(), instance.zone());
    events.normal(claim, "Launched", "Status condition transitioned, Type: Launched, Status: Unknown -> True, Reason: Launched ("
        + instance.instanceType() + " " + instance.capacityType().label() + " in " + instance.zone() + ", " + instance.instanceId() + ")");
    context.atInfo(LOG).log("launched NodeClaim {} as {} ({} {} {})", name, instance.instanceId(), instance.instanceType(),
        instance.capacityType().label(), instance.zone());
    return written;
  }
}
