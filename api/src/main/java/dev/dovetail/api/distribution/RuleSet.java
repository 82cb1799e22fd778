package dev.dovetail.api.distribution;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The WorkloadDistributionRules in force: at most one cluster-level rule and one rule per namespace.
 * When several rules claim the same scope the oldest wins (ties by name) and the others are reported
 * as duplicates, so their status can say so. A namespace rule overrides the cluster-level rule.
 */
public final class RuleSet {
  /** A rule as read from the API: name, creation time, namespace (empty = cluster level) and content. */
  public record Entry(String name, Instant created, Optional<String> namespace, DistributionRule rule) {
  }

  public static final RuleSet EMPTY = of(List.of());

  private static final Comparator<Entry> OLDEST_FIRST = Comparator.comparing(Entry::created).thenComparing(Entry::name);

  private final Optional<Entry> clusterLevel;
  private final Map<String, Entry> byNamespace;
  private final List<Entry> duplicates;

  private RuleSet(Optional<Entry> clusterLevel, Map<String, Entry> byNamespace, List<Entry> duplicates) {
    this.clusterLevel = clusterLevel;
    this.byNamespace = byNamespace;
    this.duplicates = duplicates;
  }

  public static RuleSet of(Collection<Entry> entries) {
    List<Entry> sorted = new ArrayList<>(entries);
    sorted.sort(OLDEST_FIRST);
    Entry cluster = null;
    Map<String, Entry> byNamespace = new HashMap<>();
    List<Entry> duplicates = new ArrayList<>();
    for (Entry e : sorted) {
      if (e.namespace().isEmpty()) {
        if (cluster == null) {
          cluster = e;
        } else {
          duplicates.add(e);
        }
      } else if (byNamespace.putIfAbsent(e.namespace().get(), e) != null) {
        duplicates.add(e);
      }
    }
    return new RuleSet(Optional.ofNullable(cluster), Map.copyOf(byNamespace), List.copyOf(duplicates));
  }

  /** The rule governing a namespace: its own rule, else the cluster-level rule, else none. */
  public Optional<Entry> forNamespace(String namespace) {
    Entry own = byNamespace.get(namespace);
    return own != null ? Optional.of(own) : clusterLevel;
  }

  /** Rules not in force because an older rule claims the same scope. */
  public List<Entry> duplicates() {
    return duplicates;
  }

  /** The older rule that displaces a duplicate. */
  public Optional<Entry> winnerOver(Entry duplicate) {
    return duplicate.namespace().isEmpty() ? clusterLevel : Optional.ofNullable(byNamespace.get(duplicate.namespace().get()));
  }
}
