package dev.dovetail.provisioner.disruption;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.disruption.ReplacementWindows;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.scheduling.NewClaim;
import dev.dovetail.provisioner.nodeclaim.NodeClaims;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Reverse fallback (F11): on-demand capacity launched in place of unavailable spot
 * ({@link DovetailLabels#CAPACITY_FALLBACK}) is replaced with spot once spot is back. Every retry
 * interval (the ClusterOrchestratorConfig's {@code reverseFallback.retryInterval}; off without one) a
 * fallback node at least that old is checked: its pods are simulated without it, the governed ones needing
 * spot and none falling back, so a spot offering in the unavailable-offerings cache or without a price
 * does not count. When they all find room, spot replacements are launched and Initialized before the
 * fallback node is tainted, drained (PodDisruptionBudgets honoured) and deleted, as consolidation does;
 * when they do not, the node waits another interval and says so. Karpenter's budgets do not name this
 * reason, so they do not apply; instead each NodePool has at most one reverse fallback under way, and a
 * pool whose attempt failed (its spot replacement was refused) waits before it tries again, from a minute
 * doubling up to the interval: a flapping spot capacity cannot make nodes go back and forth. It waits for
 * the replacement window's reverse-fallback operation.
 */
public final class ReverseFallback implements Method {
  /** The first wait of a NodePool after a failed attempt; it doubles with each failure in a row, up to the interval. */
  static final Duration FIRST_BACKOFF = Duration.ofMinutes(1);

  /** What reverse fallback tells the world: checks that found no spot, and attempts that ended. */
  public interface Report {
    /** The fallback node was checked and spot cannot hold its replicas yet. */
    void waiting(Candidate c, String why);

    /** An attempt for the node ended: its spot replacement came ({@code succeeded}), or not and the pool waits {@code backoff}. */
    void ended(Candidate c, String nodePool, boolean succeeded, Duration backoff);
  }

  private record Backoff(int failures, Instant until) {
  }

  private final Consolidator consolidator;
  private final Consolidator.Inputs inputs;
  private final Supplier<Optional<Duration>> interval;
  private final Report report;
  /** When each fallback claim was last found without spot (or its attempt failed). */
  private final Map<String, Instant> checked = new HashMap<>();
  /** NodePools waiting after failed attempts. */
  private final Map<String, Backoff> backoff = new HashMap<>();
  /** Claims whose reverse fallback is under way, and their pools. */
  private final Map<String, String> underWay = new HashMap<>();

  /**
   * @param consolidator whose simulation (one read of the cluster a pass) places the fallback node's pods
   * @param interval the retry interval in force, empty when reverse fallback is off
   */
  public ReverseFallback(Consolidator consolidator, Supplier<Optional<Duration>> interval, Report report) {
    this.consolidator = consolidator;
    this.inputs = consolidator.inputs();
    this.interval = interval;
    this.report = report;
  }

  @Override
  public Reason reason() {
    return Reason.REVERSE_FALLBACK;
  }

  @Override
  public boolean forceful() {
    return false;
  }

  @Override
  public Set<ReplacementWindows.Operation> windows() {
    return Set.of(ReplacementWindows.Operation.REVERSE_FALLBACK);
  }

  /** A check older than the interval holds nothing back any more: it is forgotten (the claim may be gone). */
  @Override
  public void beginPass(List<Candidate> claims, Instant now) {
    consolidator.freshView();
    Optional<Duration> every = interval.get();
    checked.values().removeIf(t -> every.isEmpty() || !now.isBefore(t.plus(every.get())));
  }

  @Override
  public void started(Command command, Instant now) {
    command.candidates().forEach(c -> underWay.put(c.name(), c.nodePool()));
  }

  /** A candidate deleted went back to spot; one left as it was failed, and its pool waits before it tries again. */
  @Override
  public void finished(Command command, boolean succeeded, Instant now) {
    Duration cap = interval.get().orElse(FIRST_BACKOFF);
    for (Candidate c : command.candidates()) {
      String pool = underWay.remove(c.name());
      if (pool == null) {
        continue;
      }
      if (succeeded) {
        backoff.remove(pool);
        report.ended(c, pool, true, Duration.ZERO);
        continue;
      }
      int failures = Optional.ofNullable(backoff.get(pool)).map(Backoff::failures).orElse(0) + 1;
      Duration wait = FIRST_BACKOFF.multipliedBy(1L << Math.min(failures - 1, 20));
      wait = wait.compareTo(cap) > 0 ? cap : wait;
      backoff.put(pool, new Backoff(failures, now.plus(wait)));
      checked.put(c.name(), now);
      report.ended(c, pool, false, wait);
    }
  }

  @Override
  public boolean shouldDisrupt(Candidate c, Instant now) {
    Optional<Duration> every = interval.get();
    if (every.isEmpty() || consolidator.outOfReach(c) || !fallback(c) || !NodeClaims.isTrue(c.claim(), ConditionTypes.INITIALIZED)
        || underWay.containsValue(c.nodePool())) {
      return false;
    }
    return !now.isBefore(due(c, every.get())) && Consolidator.podBlocker(c, inputs.disruptionBudgets(), now).isEmpty();
  }

  /** Whether the claim is on-demand capacity standing in for spot. */
  private static boolean fallback(Candidate c) {
    return "true".equals(NodeClaims.label(c.claim(), DovetailLabels.CAPACITY_FALLBACK));
  }

  /** When the fallback node may be looked at next: an interval after its launch or last check, and not before its pool's back-off ends. */
  private Instant due(Candidate c, Duration every) {
    Instant last = checked.getOrDefault(c.name(), Instant.parse(c.claim().getMetadata().getCreationTimestamp())).plus(every);
    Backoff waiting = backoff.get(c.nodePool());
    return waiting != null && waiting.until().isAfter(last) ? waiting.until() : last;
  }

  /**
   * One command a pass (the simulation's room is promised once): the oldest fallback node whose pods spot can
   * hold now, in a NodePool with none under way.
   */
  @Override
  public List<Command> computeCommands(Budgets budgets, List<Candidate> candidates, Instant now) {
    List<Candidate> sorted = new ArrayList<>(candidates);
    sorted.sort(Comparator.comparing((Candidate c) -> c.claim().getMetadata().getCreationTimestamp()).thenComparing(Candidate::name));
    for (Candidate c : sorted) {
      Consolidator.Rehoming rehoming = consolidator.rehome(List.of(c), true);
      if (!rehoming.allPlaced()) {
        checked.put(c.name(), now);
        String why = rehoming.blocked().map(Unconsolidatable::message).orElse("");
        report.waiting(c, "Spot capacity cannot hold the replicas of fallback node " + c.node().map(n -> n.getMetadata().getName()).orElse(c.name())
            + " yet (" + why + "); checking again in " + interval.get().map(Duration::toString).orElse("?"));
        continue;
      }
      List<NewClaim> claims = rehoming.claims();
      return List.of(claims.isEmpty() ? Command.delete(Reason.REVERSE_FALLBACK, List.of(c))
          : new Command(Reason.REVERSE_FALLBACK, List.of(c), Optional.of(Consolidator.only(rehoming.plan(), claims)), true));
    }
    return List.of();
  }

  @Override
  public Optional<Instant> nextDue(List<Candidate> claims, Instant now) {
    Optional<Duration> every = interval.get();
    if (every.isEmpty()) {
      return Optional.empty();
    }
    return claims.stream().filter(c -> fallback(c) && !NodeClaims.deleting(c.claim())).map(c -> due(c, every.get()))
        .filter(t -> t.isAfter(now)).min(Instant::compareTo);
  }
}
