package dev.dovetail.provisioner.nodeclaim;

import dev.dovetail.api.karpenter.v1.Durations;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * Node expiry as Karpenter has it: a NodeClaim older than its {@code spec.expireAfter} is deleted at once,
 * whatever runs on it and outside any disruption budget (its pods go pending and get new capacity; the
 * drain still honours PodDisruptionBudgets, bounded by {@code terminationGracePeriod}). {@code Never}
 * turns it off.
 */
public final class Expiration {
  private Expiration() {
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
