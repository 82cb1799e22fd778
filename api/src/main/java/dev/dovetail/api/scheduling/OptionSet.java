package dev.dovetail.api.scheduling;

import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The instance options a claim can still become. A NodePool's options live once in a {@link Table}
 * (with their allocatable CPU, memory and pods as arrays: checking which still fit is the simulation's
 * innermost loop, and comparing longs in arrays is many times cheaper than walking resource maps); a
 * claim keeps only the positions of those it can still become, and the largest allocatable among them,
 * a bound that rules out pods without looking at any option.
 */
final class OptionSet {
  /**
   * A NodePool's options, shared by every claim made from it. Each option's available offerings are also
   * kept as a bit mask over the (zone, capacity type) pairs the options are offered in, so whether an
   * option can be bought under some requirements is one AND, and which options are compatible with a set
   * of requirements is remembered per set of requirements (many claims share them).
   */
  static final class Table {
    /** Kept per set of requirements, up to this many sets (then forgotten and rebuilt as needed). */
    private static final int REMEMBERED = 4096;
    private final InstanceOption[] options;
    private final long[] cpu;
    private final long[] memory;
    private final long[] pods;
    /** Capacity (not allocatable): what NodePool limits count. */
    private final long[] capacityCpu;
    private final long[] capacityMemory;
    private final List<String> pairZones = new ArrayList<>();
    private final List<String> pairTypes = new ArrayList<>();
    /** Offered pairs per option; null when there are more pairs than a mask holds (then offerings are read). */
    private final long[] offered;
    private final Map<Requirements, Long> allowedPairs = new HashMap<>();
    private final Map<Requirements, BitSet> compatible = new HashMap<>();

    Table(List<InstanceOption> options) {
      int n = options.size();
      this.options = options.toArray(new InstanceOption[0]);
      this.cpu = new long[n];
      this.memory = new long[n];
      this.pods = new long[n];
      this.capacityCpu = new long[n];
      this.capacityMemory = new long[n];
      Map<String, Integer> pairs = new HashMap<>();
      long[] masks = new long[n];
      boolean fits = true;
      for (int i = 0; i < n; i++) {
        Resources a = this.options[i].allocatable();
        cpu[i] = a.cpuMillis();
        memory[i] = a.memoryBytes();
        pods[i] = a.pods();
        capacityCpu[i] = this.options[i].capacity().cpuMillis();
        capacityMemory[i] = this.options[i].capacity().memoryBytes();
        for (Offering o : this.options[i].offerings()) {
          if (!o.available()) {
            continue;
          }
          String key = o.zone() + "\u0000" + o.capacityType().label();
          Integer bit = pairs.get(key);
          if (bit == null) {
            bit = pairs.size();
            pairs.put(key, bit);
            pairZones.add(o.zone());
            pairTypes.add(o.capacityType().label());
          }
          if (bit < Long.SIZE) {
            masks[i] |= 1L << bit;
          } else {
            fits = false;
          }
        }
      }
      this.offered = fits ? masks : null;
    }

    int size() {
      return options.length;
    }

    InstanceOption option(int i) {
      return options[i];
    }

    boolean fits(int i, Resources total) {
      return cpu[i] >= total.cpuMillis() && memory[i] >= total.memoryBytes() && pods[i] >= total.pods()
          && (!total.hasExtras() || total.fitsIn(options[i].allocatable()));
    }

    /** Option {@code i}'s capacity of a resource (as NodePool limits count it). */
    long capacity(int i, String resource) {
      return switch (resource) {
        case Resources.CPU -> capacityCpu[i];
        case Resources.MEMORY -> capacityMemory[i];
        default -> options[i].capacity().get(resource);
      };
    }

    /** The (zone, capacity type) pairs the requirements allow, as a mask. */
    private long allowedPairs(Requirements requirements) {
      Long known = allowedPairs.get(requirements);
      if (known != null) {
        return known;
      }
      Requirement zone = requirements.get(WellKnownLabels.ZONE).orElse(null);
      Requirement type = requirements.get(WellKnownLabels.CAPACITY_TYPE).orElse(null);
      long mask = 0;
      for (int bit = 0; bit < pairZones.size() && bit < Long.SIZE; bit++) {
        if ((zone == null || zone.allows(pairZones.get(bit))) && (type == null || type.allows(pairTypes.get(bit)))) {
          mask |= 1L << bit;
        }
      }
      remember(allowedPairs, requirements, mask);
      return mask;
    }

    /** Whether option {@code i} can be bought under the requirements ({@link InstanceOption#offerable}). */
    boolean offerable(int i, Requirements requirements) {
      return offered == null ? options[i].offerable(requirements) : (offered[i] & allowedPairs(requirements)) != 0;
    }

    /** The options whose labels meet the requirements and that can be bought under them. */
    BitSet compatible(Requirements requirements) {
      BitSet known = compatible.get(requirements);
      if (known != null) {
        return known;
      }
      BitSet out = new BitSet(options.length);
      for (int i = 0; i < options.length; i++) {
        if (options[i].requirements().intersects(requirements) && offerable(i, requirements)) {
          out.set(i);
        }
      }
      remember(compatible, requirements, out);
      return out;
    }

    private static <V> void remember(Map<Requirements, V> map, Requirements key, V value) {
      if (map.size() >= REMEMBERED) {
        map.clear();
      }
      map.put(key, value);
    }

    /** The zones and capacity types the options at {@code at[0..size)} offer under the requirements, as requirements. */
    Requirements offeredDomains(int[] at, int size, Requirements requirements) {
      Set<String> zones = new TreeSet<>();
      Set<String> types = new TreeSet<>();
      if (offered != null) {
        long union = 0;
        for (int k = 0; k < size; k++) {
          union |= offered[at[k]];
        }
        union &= allowedPairs(requirements);
        for (int bit = 0; union != 0; bit++, union >>>= 1) {
          if ((union & 1) != 0) {
            zones.add(pairZones.get(bit));
            types.add(pairTypes.get(bit));
          }
        }
      } else {
        Requirement zone = requirements.get(WellKnownLabels.ZONE).orElse(null);
        Requirement type = requirements.get(WellKnownLabels.CAPACITY_TYPE).orElse(null);
        for (int k = 0; k < size; k++) {
          for (Offering o : options[at[k]].offerings()) {
            if (o.available() && (zone == null || zone.allows(o.zone())) && (type == null || type.allows(o.capacityType().label()))) {
              zones.add(o.zone());
              types.add(o.capacityType().label());
            }
          }
        }
      }
      return Requirements.of(Requirement.in(WellKnownLabels.ZONE, zones), Requirement.in(WellKnownLabels.CAPACITY_TYPE, types));
    }
  }

  private final Table table;
  private final int[] at;
  private int size;
  private long maxCpu;
  private long maxMemory;
  private long maxPods;

  /** The options at these positions of the table ({@code at} is kept, not copied). */
  OptionSet(Table table, int[] at, int size) {
    this.table = table;
    this.at = at;
    this.size = size;
    bounds();
  }

  /** Every option of a list (a table of its own). */
  OptionSet(List<InstanceOption> options) {
    this(new Table(options), identity(options.size()), options.size());
  }

  private static int[] identity(int n) {
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      out[i] = i;
    }
    return out;
  }

  private void bounds() {
    long c = 0;
    long m = 0;
    long p = 0;
    for (int k = 0; k < size; k++) {
      int i = at[k];
      c = Math.max(c, table.cpu[i]);
      m = Math.max(m, table.memory[i]);
      p = Math.max(p, table.pods[i]);
    }
    maxCpu = c;
    maxMemory = m;
    maxPods = p;
  }

  int size() {
    return size;
  }

  /** The largest allocatable CPU among the options (no option fits more). */
  long maxCpu() {
    return maxCpu;
  }

  long maxMemory() {
    return maxMemory;
  }

  long maxPods() {
    return maxPods;
  }


  /** Whether any option fits {@code total} and (if not null) the new requirements; nothing changes. */
  boolean any(Resources total, Requirements changedRequirements) {
    if (total.cpuMillis() > maxCpu || total.memoryBytes() > maxMemory || total.pods() > maxPods) {
      return false;
    }
    for (int k = 0; k < size; k++) {
      int i = at[k];
      if (table.fits(i, total) && (changedRequirements == null || table.compatible(changedRequirements).get(i))) {
        return true;
      }
    }
    return false;
  }

  /** Keeps only the options that fit {@code total} and (if not null) the new requirements, in order. */
  void retain(Resources total, Requirements changedRequirements) {
    int n = 0;
    for (int k = 0; k < size; k++) {
      int i = at[k];
      if (table.fits(i, total) && (changedRequirements == null || table.compatible(changedRequirements).get(i))) {
        at[n++] = i;
      }
    }
    if (n != size) {
      size = n;
      bounds();
    }
  }

  /**
   * The zones and capacity types the options can still be bought in under the requirements, as
   * requirements: where a claim of these options can land.
   */
  Requirements offeredDomains(Requirements requirements) {
    return table.offeredDomains(at, size, requirements);
  }

  /** The largest capacity of a resource among the options (what a claim holds against NodePool limits). */
  long largestCapacity(String resource) {
    long out = 0;
    for (int k = 0; k < size; k++) {
      out = Math.max(out, table.capacity(at[k], resource));
    }
    return out;
  }

  List<InstanceOption> list() {
    List<InstanceOption> out = new ArrayList<>(size);
    for (int k = 0; k < size; k++) {
      out.add(table.options[at[k]]);
    }
    return out;
  }
}
