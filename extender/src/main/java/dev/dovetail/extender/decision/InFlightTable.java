package dev.dovetail.extender.decision;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.dovetail.state.InFlight;
import java.time.Duration;
import java.util.Optional;

/**
 * Placements the extender has decided for pods not yet seen bound: filter records the capacity class
 * it narrowed the pod to, prioritize adds the node it ranked first. Entries expire after a short time
 * (longer than scheduling plus binding), by then the pod informer shows where the pod went.
 */
public final class InFlightTable implements InFlight {
  public static final Duration DEFAULT_TTL = Duration.ofSeconds(60);

  private final Cache<String, Expected> entries;

  public InFlightTable(Duration ttl, Ticker ticker) {
    this.entries = Caffeine.newBuilder().expireAfterWrite(ttl).ticker(ticker).maximumSize(200_000).build();
  }

  public InFlightTable() {
    this(DEFAULT_TTL, Ticker.systemTicker());
  }

  void decided(String podUid, boolean holdsSpot) {
    if (!podUid.isEmpty()) {
      entries.put(podUid, new Expected(holdsSpot, Optional.empty()));
    }
  }

  void ranked(String podUid, String node) {
    if (!podUid.isEmpty()) {
      entries.asMap().computeIfPresent(podUid, (k, e) -> new Expected(e.holdsSpot(), Optional.of(node)));
    }
  }

  void forget(String podUid) {
    entries.invalidate(podUid);
  }

  @Override
  public Optional<Expected> expected(String podUid) {
    return Optional.ofNullable(entries.getIfPresent(podUid));
  }

  public long size() {
    return entries.estimatedSize();
  }
}
