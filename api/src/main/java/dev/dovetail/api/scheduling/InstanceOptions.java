package dev.dovetail.api.scheduling;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.catalog.InstanceType;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiPredicate;

/**
 * Turns catalog instance types into scheduling options, computing capacity and reservations the way
 * Karpenter's AWS provider does (so the same pods fit the same nodes): 7.5% of memory is lost to the
 * hypervisor, the kubelet reserves CPU by a sliding scale and 11 MiB per pod plus 255 MiB of memory,
 * and 100 MiB of memory and 10% of the root volume are kept free for eviction.
 */
public final class InstanceOptions {
  private static final double VM_MEMORY_OVERHEAD = 0.075;
  private static final long MIB = 1L << 20;
  private static final long GIB = 1L << 30;
  /** Root volume size when an EC2NodeClass does not say (Karpenter's default block device). */
  public static final long DEFAULT_ROOT_VOLUME_BYTES = 20 * GIB;

  private InstanceOptions() {
  }

  /**
   * Options for every catalog type offered in one of {@code zones} (empty: all zones), with an offering
   * per zone and capacity type, available unless {@code unavailable} says otherwise (the ICE cache).
   *
   * @param maxPods kubelet maxPods override, if the node class sets one
   */
  public static List<InstanceOption> from(Catalog catalog, Set<String> zones, OptionalInt maxPods,
      BiPredicate<InstanceType, Offering> unavailable) {
    return from(catalog, zones, maxPods, unavailable, Map.of());
  }

  /**
   * As above, with more offerings by instance type than the catalog's (capacity reservations, which are
   * the cloud account's, not the catalog's); those outside {@code zones} are left out.
   */
  public static List<InstanceOption> from(Catalog catalog, Set<String> zones, OptionalInt maxPods,
      BiPredicate<InstanceType, Offering> unavailable, Map<String, List<Offering>> extra) {
    List<InstanceOption> out = new ArrayList<>(catalog.size());
    for (InstanceType t : catalog.all()) {
      List<Offering> offerings = new ArrayList<>();
      for (String zone : t.zones()) {
        if (!zones.isEmpty() && !zones.contains(zone)) {
          continue;
        }
        for (CapacityType type : t.capacityTypes()) {
          Offering o = new Offering(zone, type, t.pricePerHour(type, zone), true);
          offerings.add(unavailable.test(t, o) ? o.unavailable() : o);
        }
      }
      for (Offering o : extra.getOrDefault(t.name(), List.of())) {
        if (zones.isEmpty() || zones.contains(o.zone())) {
          offerings.add(unavailable.test(t, o) ? o.unavailable() : o);
        }
      }
      if (!offerings.isEmpty()) {
        out.add(of(t, offerings, catalog.region(), maxPods));
      }
    }
    return out;
  }

  public static InstanceOption of(InstanceType t, List<Offering> offerings, String region, OptionalInt maxPodsOverride) {
    int pods = maxPodsOverride.orElse(t.maxPods());
    Map<String, Long> capacity = new TreeMap<>();
    capacity.put(Resources.CPU, t.vcpu() * 1000L);
    capacity.put(Resources.MEMORY, (long) (t.memoryMiB() * (1 - VM_MEMORY_OVERHEAD)) * MIB);
    capacity.put(Resources.PODS, (long) pods);
    capacity.put("ephemeral-storage", DEFAULT_ROOT_VOLUME_BYTES);
    if (t.gpuCount() > 0) {
      String manufacturer = t.gpuManufacturer().orElse("").toLowerCase(Locale.ROOT);
      capacity.put(manufacturer.contains("amd") ? "amd.com/gpu" : "nvidia.com/gpu", (long) t.gpuCount());
    }
    Map<String, Long> overhead = new TreeMap<>();
    overhead.put(Resources.CPU, kubeReservedCpuMillis(t.vcpu()));
    overhead.put(Resources.MEMORY, (11L * pods + 255) * MIB + 100 * MIB);
    overhead.put("ephemeral-storage", DEFAULT_ROOT_VOLUME_BYTES / 10);
    return new InstanceOption(t.name(), requirements(t, offerings, region), new Resources(capacity), new Resources(overhead), offerings);
  }

  /** 6% of the first core, 1% of the second, 0.5% of cores 3-4 and 0.25% of the rest, in millicores. */
  static long kubeReservedCpuMillis(int vcpu) {
    double reserved = 0;
    double[][] brackets = {{1, 0.06}, {1, 0.01}, {2, 0.005}, {Double.POSITIVE_INFINITY, 0.0025}};
    double left = vcpu;
    for (double[] b : brackets) {
      double cores = Math.min(left, b[0]);
      reserved += cores * 1000 * b[1];
      left -= cores;
      if (left <= 0) {
        break;
      }
    }
    return Math.round(reserved);
  }

  private static Requirements requirements(InstanceType t, Collection<Offering> offerings, String region) {
    Requirements r = Requirements.of(
        Requirement.in(WellKnownLabels.INSTANCE_TYPE, t.name()),
        Requirement.in(WellKnownLabels.ARCH, t.architectures()),
        Requirement.in(WellKnownLabels.OS, "linux"),
        Requirement.in(WellKnownLabels.ZONE, offerings.stream().map(Offering::zone).distinct().toList()),
        Requirement.in(WellKnownLabels.CAPACITY_TYPE, offerings.stream().map(o -> o.capacityType().label()).distinct().toList()),
        Requirement.in(WellKnownLabels.REGION, region),
        Requirement.in(WellKnownLabels.INSTANCE_CATEGORY, t.category()),
        Requirement.in(WellKnownLabels.INSTANCE_FAMILY, t.family()),
        Requirement.in(WellKnownLabels.INSTANCE_GENERATION, String.valueOf(t.generation())),
        Requirement.in(WellKnownLabels.INSTANCE_SIZE, t.size()),
        Requirement.in(WellKnownLabels.INSTANCE_CPU, String.valueOf(t.vcpu())),
        Requirement.in(WellKnownLabels.INSTANCE_MEMORY, String.valueOf(t.memoryMiB())),
        Requirement.in("karpenter.k8s.aws/instance-hypervisor", t.hypervisor()),
        Requirement.in(WellKnownLabels.INSTANCE_GPU_COUNT, String.valueOf(t.gpuCount())));
    if (t.gpuCount() > 0) {
      r = r.and(Requirement.in(WellKnownLabels.INSTANCE_GPU_NAME, t.gpuName().orElse("").toLowerCase(Locale.ROOT).replace(' ', '-')))
          .and(Requirement.in(WellKnownLabels.INSTANCE_GPU_MANUFACTURER, t.gpuManufacturer().orElse("").toLowerCase(Locale.ROOT)));
    } else {
      r = r.and(Requirement.doesNotExist(WellKnownLabels.INSTANCE_GPU_NAME)).and(Requirement.doesNotExist(WellKnownLabels.INSTANCE_GPU_MANUFACTURER));
    }
    return r;
  }
}
