package dev.dovetail.api.scheduling;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An immutable bag of resource amounts in canonical integer units: CPU in millicores, memory and
 * storage in bytes, everything else (pods, GPUs, extended resources) in units. CPU and memory are also
 * kept in fields, because scoring reads them for thousands of nodes per scheduling cycle.
 */
public final class Resources {
  public static final String CPU = "cpu";
  public static final String MEMORY = "memory";
  public static final String PODS = "pods";
  public static final Resources NONE = new Resources(Map.of());

  private final Map<String, Long> amounts;
  private final long cpuMillis;
  private final long memoryBytes;
  private final long pods;
  /** Whether there is anything besides CPU, memory and pods (GPUs, ephemeral storage, extended resources). */
  private final boolean extras;

  public Resources(Map<String, Long> amounts) {
    this.amounts = Collections.unmodifiableMap(new TreeMap<>(amounts));
    this.cpuMillis = this.amounts.getOrDefault(CPU, 0L);
    this.memoryBytes = this.amounts.getOrDefault(MEMORY, 0L);
    this.pods = this.amounts.getOrDefault(PODS, 0L);
    boolean more = false;
    for (String name : this.amounts.keySet()) {
      more |= !basic(name);
    }
    this.extras = more;
  }

  /** Every amount, by resource name. */
  public Map<String, Long> amounts() {
    return amounts;
  }

  public static Resources of(Map<String, Quantity> quantities) {
    if (quantities == null || quantities.isEmpty()) {
      return NONE;
    }
    Map<String, Long> out = new TreeMap<>();
    quantities.forEach((name, q) -> out.put(name, canonical(name, q)));
    return new Resources(out);
  }

  public static Resources of(String... nameAmountPairs) {
    Map<String, Long> out = new TreeMap<>();
    for (int i = 0; i < nameAmountPairs.length; i += 2) {
      out.put(nameAmountPairs[i], canonical(nameAmountPairs[i], new Quantity(nameAmountPairs[i + 1])));
    }
    return new Resources(out);
  }

  /** A quantity in this class's units: millicores for cpu, rounded up; bytes or units otherwise. */
  public static long canonical(String name, Quantity q) {
    BigDecimal amount = Quantity.getAmountInBytes(q);
    if (CPU.equals(name)) {
      amount = amount.movePointRight(3);
    }
    return amount.setScale(0, RoundingMode.CEILING).longValueExact();
  }

  /**
   * What a pod asks the scheduler for: the larger of its containers' summed requests and any single
   * init container's, plus the pod overhead; one pod slot.
   */
  public static Resources requestsOf(Pod pod) {
    if (pod.getSpec() == null) {
      return of(PODS, "1");
    }
    Resources containers = sum(pod.getSpec().getContainers());
    Resources init = NONE;
    if (pod.getSpec().getInitContainers() != null) {
      for (Container c : pod.getSpec().getInitContainers()) {
        init = init.max(of(c.getResources() == null ? null : c.getResources().getRequests()));
      }
    }
    return containers.max(init).plus(of(pod.getSpec().getOverhead())).plus(of(PODS, "1"));
  }

  private static Resources sum(List<Container> containers) {
    Resources total = NONE;
    if (containers != null) {
      for (Container c : containers) {
        total = total.plus(of(c.getResources() == null ? null : c.getResources().getRequests()));
      }
    }
    return total;
  }

  /** As Kubernetes quantities, in the units people read: cpu in cores or millicores, bytes in Ki/Mi/Gi. */
  public Map<String, Quantity> toQuantities() {
    Map<String, Quantity> out = new TreeMap<>();
    amounts.forEach((k, v) -> out.put(k, quantity(k, v)));
    return out;
  }

  public static Quantity quantity(String name, long amount) {
    if (CPU.equals(name)) {
      return new Quantity(amount % 1000 == 0 ? String.valueOf(amount / 1000) : amount + "m");
    }
    if (MEMORY.equals(name) || name.endsWith("storage") || name.startsWith("hugepages-")) {
      for (String[] unit : new String[][] {{"Gi", "30"}, {"Mi", "20"}, {"Ki", "10"}}) {
        long size = 1L << Integer.parseInt(unit[1]);
        if (amount != 0 && amount % size == 0) {
          return new Quantity((amount / size) + unit[0]);
        }
      }
    }
    return new Quantity(String.valueOf(amount));
  }

  public long get(String name) {
    return amounts.getOrDefault(name, 0L);
  }

  public long cpuMillis() {
    return cpuMillis;
  }

  public long memoryBytes() {
    return memoryBytes;
  }

  public long pods() {
    return pods;
  }

  /** Whether any amount is of something besides CPU, memory and pods. */
  public boolean hasExtras() {
    return extras;
  }

  public Resources plus(Resources other) {
    if (other.amounts.isEmpty()) {
      return this;
    }
    Map<String, Long> out = new TreeMap<>(amounts);
    other.amounts.forEach((k, v) -> out.merge(k, v, Long::sum));
    return new Resources(out);
  }

  public Resources minus(Resources other) {
    Map<String, Long> out = new TreeMap<>(amounts);
    other.amounts.forEach((k, v) -> out.merge(k, -v, Long::sum));
    return new Resources(out);
  }

  /** The larger amount of each resource. */
  public Resources max(Resources other) {
    Map<String, Long> out = new TreeMap<>(amounts);
    other.amounts.forEach((k, v) -> out.merge(k, v, Math::max));
    return new Resources(out);
  }

  /** True when every amount here is at most the other's (a missing resource counts as 0). */
  public boolean fitsIn(Resources capacity) {
    // CPU, memory and pods decide almost every fit; they are fields, the rest is in the map.
    if (cpuMillis > capacity.cpuMillis || memoryBytes > capacity.memoryBytes || pods > capacity.pods) {
      return false;
    }
    if (!extras) {
      return true;
    }
    for (Map.Entry<String, Long> e : amounts.entrySet()) {
      if (!basic(e.getKey()) && e.getValue() > capacity.get(e.getKey())) {
        return false;
      }
    }
    return true;
  }

  /** {@code this + extra} fits in {@code capacity}, without building the sum. */
  public boolean fitsWith(Resources extra, Resources capacity) {
    if (cpuMillis + extra.cpuMillis > capacity.cpuMillis || memoryBytes + extra.memoryBytes > capacity.memoryBytes
        || pods + extra.pods > capacity.pods) {
      return false;
    }
    if (!extras && !extra.extras) {
      return true;
    }
    for (Map.Entry<String, Long> e : extra.amounts.entrySet()) {
      if (!basic(e.getKey()) && get(e.getKey()) + e.getValue() > capacity.get(e.getKey())) {
        return false;
      }
    }
    for (Map.Entry<String, Long> e : amounts.entrySet()) {
      if (!basic(e.getKey()) && !extra.amounts.containsKey(e.getKey()) && e.getValue() > capacity.get(e.getKey())) {
        return false;
      }
    }
    return true;
  }

  private static boolean basic(String name) {
    return name.equals(CPU) || name.equals(MEMORY) || name.equals(PODS);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Resources r && amounts.equals(r.amounts);
  }

  @Override
  public int hashCode() {
    return amounts.hashCode();
  }

  @Override
  public String toString() {
    return amounts.toString();
  }
}
