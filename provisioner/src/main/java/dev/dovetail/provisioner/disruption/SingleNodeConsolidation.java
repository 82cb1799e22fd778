package dev.dovetail.provisioner.disruption;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Karpenter's single-node consolidation, the last graceful method: the candidates one at a time, best
 * savings per disruption cost first, each within its pool's {@code Underutilized} budget; the first that
 * can be deleted (its pods fit elsewhere) or replaced by one cheaper node is the pass's command. The
 * others are told why not ({@code Unconsolidatable}). Gives up after three minutes of simulating.
 */
public final class SingleNodeConsolidation extends ConsolidationMethod {
  static final Duration TIMEOUT = Duration.ofMinutes(3);

  private final Clock clock;

  public SingleNodeConsolidation(Consolidator consolidator, Clock clock) {
    super(consolidator);
    this.clock = clock;
  }

  @Override
  public String consolidationType() {
    return "single";
  }

  @Override
  public List<Command> computeCommands(Budgets budgets, List<Candidate> candidates, Instant now) {
    Instant deadline = clock.instant().plus(TIMEOUT);
    for (Candidate c : consolidator.sorted(candidates, now)) {
      if (clock.instant().isAfter(deadline)) {
        break;
      }
      if (budgets.allowed(c.nodePool(), Reason.UNDERUTILIZED) <= 0) {
        continue;
      }
      Consolidator.Move move = consolidator.evaluate(List.of(c), true, now);
      if (move instanceof Consolidator.Move.None none) {
        consolidator.report(c, none.why());
        continue;
      }
      return Consolidator.command(move).map(List::of).orElse(List.of());
    }
    return List.of();
  }
}
