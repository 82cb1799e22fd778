package dev.dovetail.provisioner.disruption;

import dev.dovetail.api.karpenter.v1.Durations;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.provisioner.nodeclaim.NodeClaims;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;

/**
 * Node expiry as Karpenter has it: a NodeClaim older than its {@code spec.expireAfter} is deleted at once,
 * whatever runs on it and outside any disruption budget (its pods go pending and get new capacity; the
 * drain still honours PodDisruptionBudgets, bounded by {@code terminationGracePeriod}). {@code Never}
 * turns it off.
 */
public final class Expiration implements Method {
  @Override
  public Reason reason() {
    return Reason.EXPIRED;
  }

  @Override
  public boolean forceful() {
    return true;
  }

  @Override
  public boolean shouldDisrupt(Candidate candidate, Instant now) {
    return !NodeClaims.deleting(candidate.claim()) && expired(candidate.claim(), now);
  }

  /** Expired claims are deleted at once; their pods go pending and are provisioned for as any other. */
  @Override
  public List<Command> computeCommands(Budgets budgets, List<Candidate> candidates, Instant now) {
    return candidates.isEmpty() ? List.of() : List.of(Command.delete(Reason.EXPIRED, candidates));
  }

  /** The earliest expiry among the claims still alive. */
  @Override
  public Optional<Instant> nextDue(List<Candidate> claims, Instant now) {
    return claims.stream().filter(c -> !NodeClaims.deleting(c.claim())).map(c -> remaining(c.claim(), now))
        .flatMap(Optional::stream).min(Duration::compareTo).map(now::plus);
  }

  /**
   * How long until the claim expires (zero or negative: expired); empty when it never does, or when its
   * creation time or {@code expireAfter} cannot be read (the API server validates both, so only a claim
   * written by hand would lack them).
   */
  public static Optional<Duration> remaining(NodeClaim claim, Instant now) {
    String created = claim.getMetadata() == null ? null : claim.getMetadata().getCreationTimestamp();
    String expireAfter = claim.getSpec() == null ? null : claim.getSpec().expireAfter();
    if (created == null || expireAfter == null) {
      return Optional.empty();
    }
    try {
      Optional<Duration> lifetime = Durations.parse(expireAfter);
      return lifetime.map(l -> Duration.between(now, Instant.parse(created).plus(l)));
    } catch (IllegalArgumentException | DateTimeParseException e) {
      return Optional.empty();
    }
  }

  public static boolean expired(NodeClaim claim, Instant now) {
    return remaining(claim, now).map(Expiration::due).orElse(false);
  }

  /** Whether a {@link #remaining} time means the claim has expired. */
  public static boolean due(Duration remaining) {
    return remaining.isNegative() || remaining.isZero();
  }
}
