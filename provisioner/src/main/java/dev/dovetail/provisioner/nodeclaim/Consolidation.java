package dev.dovetail.provisioner.nodeclaim;

import dev.dovetail.api.common.Condition;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.Disruption;
import dev.dovetail.api.karpenter.v1.Durations;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.provisioner.cluster.Caches;
import dev.dovetail.provisioner.controller.Reconciliation;
import dev.dovetail.provisioner.controller.Result;
import dev.dovetail.provisioner.kube.Conditions;
import dev.dovetail.provisioner.kube.Writer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * {@code Consolidatable}, as Karpenter keeps it: True once the claim is Initialized and its NodePool's
 * {@code consolidateAfter} has passed since the last pod was bound to or removed from the node
 * ({@code status.lastPodEventTime}, or the initialization time before any); cleared while that time has not
 * come (the claim comes back when it does) and when the pool says {@code Never}. The disruption methods
 * consolidate only claims with it.
 */
final class Consolidation implements Step {
  private final Caches caches;
  private final Writer writer;
  private final Clock clock;

  Consolidation(Caches caches, Writer writer, Clock clock) {
    this.caches = caches;
    this.writer = writer;
    this.clock = clock;
  }

  @Override
  public CompletionStage<Outcome> reconcile(State state, Reconciliation context) {
    NodeClaim claim = state.claim();
    Optional<Condition> initialized = Conditions.get(NodeClaims.conditions(claim), ConditionTypes.INITIALIZED).filter(Condition::isTrue);
    if (initialized.isEmpty()) {
      return Outcome.next(state);
    }
    Instant now = clock.instant();
    Optional<Instant> due = due(claim, caches.nodePool(NodeClaims.pool(claim)), initialized.get());
    boolean consolidatable = due.isPresent() && !due.get().isAfter(now);
    NodeClaim written = NodeClaims.trueOrAbsent(writer, claim, ConditionTypes.CONSOLIDATABLE,
        consolidatable ? Optional.of(new NodeClaims.Why("Consolidatable", "")) : Optional.empty(), now);
    State next = state.withClaim(written);
    if (!consolidatable && due.isPresent()) {
      return Outcome.stop(next, Result.after(Duration.between(now, due.get())));
    }
    return Outcome.next(next);
  }

  /**
   * When the claim becomes consolidatable: {@code consolidateAfter} after its last pod event (or after it
   * was initialized); empty when its pool is gone or says {@code Never}, or the duration cannot be read.
   */
  static Optional<Instant> due(NodeClaim claim, Optional<NodePool> pool, Condition initialized) {
    if (pool.isEmpty() || pool.get().getSpec() == null) {
      return Optional.empty();
    }
    Disruption disruption = pool.get().getSpec().disruption();
    String after = disruption == null || disruption.consolidateAfter() == null ? "0s" : disruption.consolidateAfter();
    Optional<Duration> wait;
    try {
      wait = Durations.parse(after);
    } catch (IllegalArgumentException unreadable) {
      return Optional.empty();
    }
    if (wait.isEmpty()) {
      return Optional.empty();
    }
    String last = claim.getStatus() == null ? null : claim.getStatus().lastPodEventTime();
    Instant since = last != null ? Instant.parse(last) : Instant.parse(initialized.lastTransitionTime());
    return Optional.of(since.plus(wait.get()));
  }
}
