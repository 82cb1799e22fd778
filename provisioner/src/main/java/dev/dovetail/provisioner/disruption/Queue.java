package dev.dovetail.provisioner.disruption;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Replacement commands in flight (Karpenter's orchestration queue): their candidates are tainted
 * {@code karpenter.sh/disrupted} and wait until every replacement is Initialized before they are deleted.
 * While a command is here, its candidates and replacements are no other graceful method's to take; a
 * replacement stays protected until its command's candidates are gone and
 * {@link #SETTLE} more has passed, so an emptiness pass does not remove it while the pods it was
 * launched for are still on their way. Only the disruption pass touches it (one thread).
 */
final class Queue {
  /** How long a command may wait for its replacements before it is abandoned (Karpenter: 10 min at least). */
  static final Duration TIMEOUT = Duration.ofMinutes(10);
  /** How long a replacement stays protected once its candidates are gone: as long as a nomination holds. */
  static final Duration SETTLE = Duration.ofSeconds(20);

  /** A command waiting for its replacements. */
  record Entry(Command command, String consolidationType, List<String> replacements, Instant started) {
    Entry {
      replacements = List.copyOf(replacements);
    }

    List<String> candidates() {
      return command.candidates().stream().map(Candidate::name).toList();
    }

    Instant deadline() {
      return started.plus(TIMEOUT);
    }
  }

  private final List<Entry> entries = new ArrayList<>();
  /** Replacements of finished commands, with the candidates they replaced, until {@link #SETTLE} after those are gone. */
  private final Map<String, Settling> settling = new HashMap<>();

  private record Settling(Set<String> candidates, Optional<Instant> goneSince) {
  }

  void add(Entry entry) {
    entries.add(entry);
  }

  List<Entry> entries() {
    return List.copyOf(entries);
  }

  /** The command is over: its candidates are deleted (the replacements settle) or it was abandoned. */
  void remove(Entry entry, boolean completed) {
    entries.remove(entry);
    if (completed) {
      entry.replacements().forEach(r -> settling.put(r, new Settling(Set.copyOf(entry.candidates()), Optional.empty())));
    }
  }

  /** Whether a command in flight waits for this claim (as a replacement). */
  boolean awaits(String claim) {
    return entries.stream().anyMatch(e -> e.replacements().contains(claim));
  }

  boolean isCandidate(String claim) {
    return entries.stream().anyMatch(e -> e.candidates().contains(claim));
  }

  /** Whether graceful methods must leave the claim alone: a candidate or replacement in flight, or a replacement settling. */
  boolean holds(String claim) {
    return isCandidate(claim) || awaits(claim) || settling.containsKey(claim);
  }

  /** Forgets settled replacements: those whose candidates have been gone ({@code exists} false) for {@link #SETTLE}. */
  void settle(Predicate<String> exists, Instant now) {
    settling.replaceAll((r, s) -> s.goneSince().isPresent() || s.candidates().stream().anyMatch(exists) ? s
        : new Settling(s.candidates(), Optional.of(now)));
    settling.values().removeIf(s -> s.goneSince().isPresent() && !now.isBefore(s.goneSince().get().plus(SETTLE)));
  }

  /** When a settling replacement is next released, if any is waiting for time alone. */
  Optional<Instant> nextSettled() {
    return settling.values().stream().map(Settling::goneSince).flatMap(Optional::stream).map(t -> t.plus(SETTLE)).min(Instant::compareTo);
  }
}
