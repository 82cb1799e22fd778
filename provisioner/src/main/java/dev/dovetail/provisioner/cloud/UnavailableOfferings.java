package dev.dovetail.provisioner.cloud;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.dovetail.api.catalog.CapacityType;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Offerings that recently had no capacity (an insufficient-capacity error, a spot interruption), kept
 * out of simulations and launches for a while, as Karpenter's unavailable-offerings cache does (3
 * minutes). {@link #version()} changes whenever an entry is added or expires, so callers can cache
 * what they derive from it.
 */
public final class UnavailableOfferings {
  public static final Duration DEFAULT_TTL = Duration.ofMinutes(3);
  private final Cache<String, Boolean> entries;
  private final AtomicLong version = new AtomicLong();

  public UnavailableOfferings(Duration ttl, Ticker ticker) {
    this.entries = Caffeine.newBuilder().expireAfterWrite(ttl).ticker(ticker)
        .removalListener((String k, Boolean v, RemovalCause c) -> version.incrementAndGet())
        .executor(Runnable::run).build();
  }

  public UnavailableOfferings() {
    this(DEFAULT_TTL, Ticker.systemTicker());
  }

  private static String key(String instanceType, String zone, String capacityType) {
    return instanceType + "/" + zone + "/" + capacityType;
  }

  public void mark(String instanceType, String zone, String capacityType) {
    if (entries.asMap().put(key(instanceType, zone, capacityType), Boolean.TRUE) == null) {
      version.incrementAndGet();
    }
  }

  public boolean isUnavailable(String instanceType, String zone, CapacityType capacityType) {
    return entries.getIfPresent(key(instanceType, zone, capacityType.label())) != null;
  }

  /** Changes when the set changes (expired entries are noticed on the next read or clean-up). */
  public long version() {
    entries.cleanUp();
    return version.get();
  }
}
