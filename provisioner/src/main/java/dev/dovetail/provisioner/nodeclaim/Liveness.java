package dev.dovetail.provisioner.nodeclaim;

import dev.dovetail.api.common.Condition;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.provisioner.cloud.CloudProvider;
import dev.dovetail.provisioner.cloud.CloudProviderException;
import dev.dovetail.provisioner.controller.Reconciliation;
import dev.dovetail.provisioner.controller.Result;
import dev.dovetail.provisioner.kube.Conditions;
import dev.dovetail.runtime.Failures;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Liveness, as Karpenter's: a claim that could not launch for {@link #LAUNCH_TTL}, or whose node has not
 * registered within the registration TTL, is deleted so its pods get new capacity; so is one whose
 * instance vanished (looked up now and then while it waits for its node, and noticed at once when its
 * registered node is gone). A claim whose Node someone deleted is deleted too, so it terminates the
 * usual way (drain, then the instance).
 */
final class Liveness implements Step {
  private static final Logger LOG = LoggerFactory.getLogger(Liveness.class);
  public static final Duration LAUNCH_TTL = Duration.ofMinutes(5);
  /** How often an unregistered claim checks that its instance still exists. */
  static final Duration INSTANCE_CHECK = Duration.ofSeconds(30);

  private final CloudProvider cloud;
  private final Deletions deletions;
  private final Duration registrationTtl;
  private final Clock clock;

  Liveness(CloudProvider cloud, Deletions deletions, Duration registrationTtl, Clock clock) {
    this.cloud = cloud;
    this.deletions = deletions;
    this.registrationTtl = registrationTtl;
    this.clock = clock;
  }

  @Override
  public CompletionStage<Outcome> reconcile(State state, Reconciliation context) {
    NodeClaim claim = state.claim();
    Instant now = clock.instant();
    if (!NodeClaims.isTrue(claim, ConditionTypes.LAUNCHED)) {
      boolean failing = Conditions.get(NodeClaims.conditions(claim), ConditionTypes.LAUNCHED)
          .map(c -> c.status() == Condition.Status.False).orElse(false);
      if (failing && NodeClaims.age(claim, now).compareTo(LAUNCH_TTL) > 0) {
        deletions.giveUp(claim, context, "LaunchTimeout", "NodeClaim was not launched within " + LAUNCH_TTL.toMinutes() + "m; deleting it",
            "liveness");
        return Outcome.stop(state, Result.DONE);
      }
      return Outcome.next(state);
    }
    if (state.node().isPresent() && state.node().get().getMetadata().getDeletionTimestamp() != null) {
      context.atInfo(LOG).log("node {} is being deleted; deleting its NodeClaim", state.node().get().getMetadata().getName());
      deletions.delete(claim);
      return Outcome.stop(state, Result.DONE);
    }
    if (state.node().isPresent()) {
      return Outcome.next(state);
    }
    if (NodeClaims.isTrue(claim, ConditionTypes.REGISTERED)) {
      return gone(state, context);
    }
    Duration waited = NodeClaims.sinceLaunched(claim, now);
    if (waited.compareTo(registrationTtl) >= 0) {
      deletions.giveUp(claim, context, "FailedRegistration", "NodeClaim did not register a node within " + registrationTtl.toMinutes()
          + "m; deleting it so its pods get new capacity", "liveness");
      return Outcome.stop(state, Result.DONE);
    }
    Optional<String> providerId = NodeClaims.providerId(claim);
    if (providerId.isEmpty()) {
      return Outcome.next(state);
    }
    return cloud.get(providerId.get()).handle((instance, error) -> {
      Throwable cause = Failures.cause(error);
      if (cause instanceof CloudProviderException.NotFound) {
        return gone(state, context).toCompletableFuture().join();
      }
      if (cause != null) {
        context.atDebug(LOG).log("could not look up instance {}: {}", providerId.get(), cause.toString());
      }
      return new Outcome(state, Optional.empty());
    });
  }

  private CompletionStage<Outcome> gone(State state, Reconciliation context) {
    NodeClaim claim = state.claim();
    String providerId = NodeClaims.providerId(claim).orElse("");
    deletions.giveUp(claim, context, "InstanceNotFound", "instance " + providerId + " no longer exists; deleting the NodeClaim",
        "garbage_collected");
    return Outcome.stop(state, Result.DONE);
  }
}
