package dev.dovetail.provisioner.disruption;

import dev.dovetail.api.disruption.ReplacementWindows;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * One way of disrupting nodes (Karpenter's disruption methods): which claims it would disrupt, what it
 * would do with them, and why. The {@link Orchestrator} asks the methods in order each pass; forceful
 * methods (expiry, interruption) act on all their candidates, outside budgets; of the graceful ones
 * (emptiness, drift, consolidation) the first with a command wins the pass.
 */
public interface Method {
  Reason reason();

  /** Acts on every candidate at once, outside disruption budgets. */
  boolean forceful();

  /** Cheap: whether the method would consider this candidate at all (no simulation). */
  boolean shouldDisrupt(Candidate candidate, Instant now);

  /**
   * The commands for these candidates (all passed {@link #shouldDisrupt}) within {@code budgets}. May run
   * the provisioner's scheduling simulation; writes nothing to the API server.
   */
  List<Command> computeCommands(Budgets budgets, List<Candidate> candidates, Instant now);

  /** Karpenter's {@code consolidation_type} metric label: empty, multi or single; blank for the others. */
  default String consolidationType() {
    return "";
  }

  /** The replacement-window operations that must be open for this method to act (none: it is not governed). */
  default Set<ReplacementWindows.Operation> windows() {
    return Set.of();
  }

  /** Called once a pass, before any other call, with every claim: for methods that weigh a move against the whole pool. */
  default void beginPass(List<Candidate> claims, Instant now) {
  }

  /** Told when one of this method's commands started: its replacements launched, or its candidates deleted. */
  default void started(Command command, Instant now) {
  }

  /**
   * Told when one of this method's commands ended: its candidates deleted ({@code succeeded}), or the
   * command abandoned (a replacement gone or not Initialized in time) and the candidates left as they were.
   */
  default void finished(Command command, boolean succeeded, Instant now) {
  }

  /** When one of these claims (all of them, not only candidates) next needs this method without any event, if known. */
  default Optional<Instant> nextDue(List<Candidate> claims, Instant now) {
    return Optional.empty();
  }
}
