package dev.dovetail.provisioner.disruption;

import dev.dovetail.api.config.v1alpha1.PodEvictor;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Karpenter's multi-node consolidation: of the candidates, best savings per disruption cost first and
 * as many per pool as its {@code Underutilized} budget allows (at most {@value #MAX_CANDIDATES}), the
 * longest prefix of two or more that can go together — all deleted, or all replaced by one node cheaper
 * than they are together — found by binary search over the prefix length, within a minute. Candidates
 * of pools a ClusterOrchestratorConfig manages take no more pods together than its pod evictor's
 * {@code maxEvictions}.
 */
public final class MultiNodeConsolidation extends ConsolidationMethod {
  static final int MAX_CANDIDATES = 100;
  static final Duration TIMEOUT = Duration.ofMinutes(1);

  private final Clock clock;

  public MultiNodeConsolidation(Consolidator consolidator, Clock clock) {
    super(consolidator);
    this.clock = clock;
  }

  @Override
  public String consolidationType() {
    return "multi";
  }

  @Override
  public List<Command> computeCommands(Budgets budgets, List<Candidate> candidates, Instant now) {
    List<Candidate> within = new ArrayList<>();
    Map<String, Integer> taken = new HashMap<>();
    int evicting = 0;
    for (Candidate c : consolidator.sorted(candidates, now)) {
      int used = taken.getOrDefault(c.nodePool(), 0);
      // Pools a ClusterOrchestratorConfig manages move at most its maxEvictions pods a pass, together.
      Optional<PodEvictor> rules = consolidator.evictor(c);
      int pods = rules.isPresent() ? Consolidator.moving(c).size() : 0;
      if (used < budgets.allowed(c.nodePool(), Reason.UNDERUTILIZED) && within.size() < MAX_CANDIDATES
          && (rules.isEmpty() || evicting + pods <= EvictorRules.maxEvictions(rules.get()))) {
        taken.put(c.nodePool(), used + 1);
        within.add(c);
        evicting += pods;
      }
    }
    if (within.size() < 2) {
      return List.of();
    }
    Instant deadline = clock.instant().plus(TIMEOUT);
    Optional<Command> best = Optional.empty();
    int low = 2;
    int high = within.size();
    while (low <= high && !clock.instant().isAfter(deadline)) {
      int mid = (low + high) >>> 1;
      Optional<Command> found = Consolidator.command(consolidator.evaluate(within.subList(0, mid), false, now));
      if (found.isPresent()) {
        best = found;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return best.map(List::of).orElse(List.of());
  }
}
