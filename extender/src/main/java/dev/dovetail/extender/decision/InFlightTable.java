package dev.dovetail.extender.decision;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.dovetail.state.InFlight;
import dev.dovetail.state.WorkloadKey;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Placements the extender has decided for pods not yet seen bound: filter records the capacity class
 * it narrowed a pod to, prioritize adds the node it ranked first. An entry goes when the cluster view
 * reports the pod settled (bound, finished, deleted), or after a time-to-live longer than scheduling
 * plus binding, for pods the scheduler then did not place. Totals are kept per workload, so asking
 * costs the same however many replicas are in flight.
 */
public final class InFlightTable implements InFlight {
  public static final Duration DEFAULT_TTL = Duration.ofSeconds(60);

  private record Entry(WorkloadKey workload, boolean holdsSpot, Optional<String> node, long expiresAt) {
  }

  /** Running totals of one workload's entries. */
  private static final class Totals {
    int spot;
    int onDemand;
    final Map<String, Integer> perNode = new HashMap<>();

    void add(Entry e, int sign) {
      if (e.holdsSpot()) {
        spot += sign;
      } else {
        onDemand += sign;
      }
      e.node().ifPresent(n -> perNode.merge(n, sign, (a, b) -> a + b == 0 ? null : a + b));
    }
  }

  private record Expiry(String uid, long at) {
  }

  private final long ttlNanos;
  private final Ticker ticker;
  private final Map<String, Entry> entries = new HashMap<>();
  private final Map<WorkloadKey, Totals> totals = new HashMap<>();
  private final ArrayDeque<Expiry> expiries = new ArrayDeque<>();

  public InFlightTable(Duration ttl, Ticker ticker) {
    this.ttlNanos = ttl.toNanos();
    this.ticker = ticker;
  }

  public InFlightTable() {
    this(DEFAULT_TTL, Ticker.systemTicker());
  }

  synchronized void decided(String podUid, WorkloadKey workload, boolean holdsSpot) {
    if (!podUid.isEmpty()) {
      put(podUid, new Entry(workload, holdsSpot, Optional.empty(), ticker.read() + ttlNanos));
    }
  }

  synchronized void ranked(String podUid, String node) {
    Entry e = entries.get(podUid);
    if (e != null) {
      put(podUid, new Entry(e.workload(), e.holdsSpot(), Optional.of(node), e.expiresAt()));
    }
  }

  synchronized void forget(String podUid) {
    remove(podUid);
  }

  /** The pod is bound, finished or gone: the cluster view counts it from now on. */
  public synchronized void settled(String podUid) {
    remove(podUid);
  }

  @Override
  public synchronized Pending pending(WorkloadKey workload, String excludedPodUid) {
    expire();
    Totals t = totals.get(workload);
    if (t == null) {
      return Pending.NONE;
    }
    Totals result = new Totals();
    result.spot = t.spot;
    result.onDemand = t.onDemand;
    result.perNode.putAll(t.perNode);
    Entry excluded = entries.get(excludedPodUid);
    if (excluded != null && excluded.workload().equals(workload)) {
      result.add(excluded, -1);
    }
    return new Pending(result.spot, result.onDemand, result.perNode);
  }

  /** What is held for one pod (for tests and diagnostics). */
  public synchronized Optional<Boolean> holdsSpot(String podUid) {
    expire();
    return Optional.ofNullable(entries.get(podUid)).map(Entry::holdsSpot);
  }

  public synchronized int size() {
    return entries.size();
  }

  private void put(String uid, Entry e) {
    remove(uid);
    entries.put(uid, e);
    totals.computeIfAbsent(e.workload(), k -> new Totals()).add(e, 1);
    expiries.addLast(new Expiry(uid, e.expiresAt()));
  }

  private void remove(String uid) {
    Entry old = entries.remove(uid);
    if (old != null) {
      Totals t = totals.get(old.workload());
      t.add(old, -1);
      if (t.spot == 0 && t.onDemand == 0) {
        totals.remove(old.workload());
      }
    }
  }

  /** Entries are queued in write order and share one TTL, so the oldest expire first. */
  private void expire() {
    long now = ticker.read();
    while (!expiries.isEmpty() && expiries.peekFirst().at() - now <= 0) {
      Expiry x = expiries.removeFirst();
      Entry e = entries.get(x.uid());
      if (e != null && e.expiresAt() == x.at()) {
        remove(x.uid());
      }
    }
  }
}
