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
  /** Per block of {@value #BLOCK} bins, the most room any of them has: a search skips blocks without room for a pod. */
  private static final int BLOCK = 64;
  private long[] blockCpu = new long[1];
  private long[] blockMemory = new long[1];
  private long[] blockPods = new long[1];

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
      blockCpu = Arrays.copyOf(blockCpu, cpu.length / BLOCK);
      blockMemory = Arrays.copyOf(blockMemory, cpu.length / BLOCK);
      blockPods = Arrays.copyOf(blockPods, cpu.length / BLOCK);
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
    int block = bin / BLOCK;
    long maxCpu = Long.MIN_VALUE;
    long maxMemory = Long.MIN_VALUE;
    long maxPods = Long.MIN_VALUE;
    for (int b = block * BLOCK, end = Math.min(size, b + BLOCK); b < end; b++) {
      maxCpu = Math.max(maxCpu, cpu[b]);
      maxMemory = Math.max(maxMemory, memory[b]);
      maxPods = Math.max(maxPods, pods[b]);
    }
    blockCpu[block] = maxCpu;
    blockMemory[block] = maxMemory;
    blockPods[block] = maxPods;
  }

  /**
   * The first bin from {@code from} on that may have room for these requests (its bound on CPU, memory and
   * pods is at least the requests; a bin below it certainly has no room), or -1: whole blocks whose roomiest
   * bin is too small for one of the resources are skipped.
   */
  int nextMayFit(int from, Resources requests) {
    long c = requests.cpuMillis();
    long m = requests.memoryBytes();
    long p = requests.pods();
    int bin = from;
    while (bin < size) {
      int block = bin / BLOCK;
      if (c > blockCpu[block] || m > blockMemory[block] || p > blockPods[block]) {
        bin = (block + 1) * BLOCK;
        continue;
      }
      for (int end = Math.min(size, (block + 1) * BLOCK); bin < end; bin++) {
        if (c <= cpu[bin] && m <= memory[bin] && p <= pods[bin]) {
          return bin;
        }
      }
    }
    return -1;
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
