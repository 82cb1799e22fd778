package dev.dovetail.api.scheduling;

import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.IntFunction;

/**
 * Where the simulation can put pods — running nodes and in-flight claims first, then the claims it
 * opens — numbered in the order they are tried, with what lets it leave most of them out for a pod
 * without trying them: an upper bound on the room each has left, and, per topology key a pod's terms
 * use, which bins could be in which domain. Every test here is one a bin would fail anyway; the bins
 * that pass are tried in order, so the answer is the plain first-fit's.
 */
final class Bins {
  /** Which bins could be in each domain of one topology key. */
  private static final class KeyIndex {
    /** Bins whose requirements do not name the domain (they could be in any). */
    final BitSet unrestricted = new BitSet();
    final Map<String, BitSet> byDomain = new HashMap<>();
  }

  private final IntFunction<Requirements> requirementsOf;
  private final Map<String, KeyIndex> keys = new HashMap<>();
  private int size;
  private long[] cpu = new long[64];
  private long[] memory = new long[64];
  private long[] pods = new long[64];

  /** @param requirementsOf a bin's requirements as they are now (a node's labels, a claim's requirements) */
  Bins(IntFunction<Requirements> requirementsOf) {
    this.requirementsOf = requirementsOf;
  }

  int size() {
    return size;
  }

  /** Adds a bin (the next number) with room for at most this much. */
  int add(long roomCpu, long roomMemory, long roomPods) {
    int bin = size++;
    if (bin == cpu.length) {
      cpu = Arrays.copyOf(cpu, bin * 2);
      memory = Arrays.copyOf(memory, bin * 2);
      pods = Arrays.copyOf(pods, bin * 2);
    }
    room(bin, roomCpu, roomMemory, roomPods);
    keys.forEach((key, index) -> index(index, key, bin));
    return bin;
  }

  /** The bin has at most this much room left (it only shrinks). */
  void room(int bin, long roomCpu, long roomMemory, long roomPods) {
    cpu[bin] = roomCpu;
    memory[bin] = roomMemory;
    pods[bin] = roomPods;
  }

  /** Whether the bin may have room for these requests (false: it certainly has not). */
  boolean mayFit(int bin, Resources requests) {
    return requests.cpuMillis() <= cpu[bin] && requests.memoryBytes() <= memory[bin] && requests.pods() <= pods[bin];
  }

  /** The bin's requirements narrowed: its domains are looked at again. */
  void narrowed(int bin) {
    keys.forEach((key, index) -> {
      index.unrestricted.clear(bin);
      index.byDomain.values().forEach(b -> b.clear(bin));
      index(index, key, bin);
    });
  }

  private void index(KeyIndex index, String key, int bin) {
    Requirement r = requirementsOf.apply(bin).get(key).orElse(null);
    if (r == null || r.complement()) {
      index.unrestricted.set(bin);
      return;
    }
    for (String domain : r.values()) {
      index.byDomain.computeIfAbsent(domain, d -> new BitSet()).set(bin);
    }
  }

  private KeyIndex key(String key) {
    KeyIndex index = keys.get(key);
    if (index == null) {
      index = new KeyIndex();
      for (int bin = 0; bin < size; bin++) {
        index(index, key, bin);
      }
      keys.put(key, index);
    }
    return index;
  }

  /** Clears from {@code candidates} the bins that cannot be in any of {@code domains} of {@code key}. */
  void narrowToDomains(String key, Set<String> domains, BitSet candidates, BitSet scratch) {
    KeyIndex index = key(key);
    scratch.clear();
    scratch.or(index.unrestricted);
    for (String d : domains) {
      BitSet in = index.byDomain.get(d);
      if (in != null) {
        scratch.or(in);
      }
    }
    candidates.and(scratch);
  }
}
