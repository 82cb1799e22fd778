package dev.dovetail.provisioner.disruption;

import dev.dovetail.api.disruption.ReplacementWindows;
import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * What multi-node and single-node consolidation share as methods: reason {@code Underutilized}, graceful,
 * candidates as the {@link Consolidator} has them, and the replacement window's consolidation and pod
 * eviction (they move pods) both open.
 */
abstract class ConsolidationMethod implements Method {
  protected final Consolidator consolidator;

  ConsolidationMethod(Consolidator consolidator) {
    this.consolidator = consolidator;
  }

  @Override
  public final Reason reason() {
    return Reason.UNDERUTILIZED;
  }

  @Override
  public final Set<ReplacementWindows.Operation> windows() {
    return Set.of(ReplacementWindows.Operation.CONSOLIDATION, ReplacementWindows.Operation.POD_EVICTION);
  }

  @Override
  public final boolean forceful() {
    return false;
  }

  @Override
  public final void beginPass(List<Candidate> claims, Instant now) {
    consolidator.beginPass(claims, now);
  }

  @Override
  public final boolean shouldDisrupt(Candidate candidate, Instant now) {
    return consolidator.eligible(candidate, now);
  }
}
