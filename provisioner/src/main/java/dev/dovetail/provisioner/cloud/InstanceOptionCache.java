package dev.dovetail.provisioner.cloud;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.aws.v1.EC2NodeClassStatus;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.scheduling.InstanceOption;
import dev.dovetail.api.scheduling.InstanceOptions;
import dev.dovetail.api.scheduling.Offering;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The instance options of a node class, as every cloud provider computes them: the catalog's types in
 * the zones of the class's resolved subnets, pods per node from its kubelet settings, and offerings
 * marked unavailable while they are in the {@link UnavailableOfferings} cache. Rebuilt only when one of
 * those inputs (or the catalog) changed (a scheduling pass asks many times).
 */
public final class InstanceOptionCache {
  private final Supplier<Catalog> catalog;
  private final UnavailableOfferings unavailable;
  private final AtomicReference<Cached> cached = new AtomicReference<>();

  private final BiFunction<EC2NodeClass, Catalog, Map<String, List<Offering>>> extra;

  private record Cached(Catalog catalog, Set<String> zones, OptionalInt maxPods, long version, Map<String, List<Offering>> extra,
      List<InstanceOption> options) {
  }

  /** @param catalog the current catalog (replaced, never changed in place, when prices are refreshed) */
  public InstanceOptionCache(Supplier<Catalog> catalog, UnavailableOfferings unavailable) {
    this(catalog, unavailable, (c, k) -> Map.of());
  }

  /** @param extra offerings of the class's own beyond the catalog's (its capacity reservations), by instance type */
  public InstanceOptionCache(Supplier<Catalog> catalog, UnavailableOfferings unavailable,
      BiFunction<EC2NodeClass, Catalog, Map<String, List<Offering>>> extra) {
    this.catalog = catalog;
    this.unavailable = unavailable;
    this.extra = extra;
  }

  public List<InstanceOption> optionsFor(EC2NodeClass nodeClass) {
    Set<String> zones = nodeClass.getStatus() == null || nodeClass.getStatus().subnets() == null ? Set.of()
        : nodeClass.getStatus().subnets().stream().map(EC2NodeClassStatus.Subnet::zone).collect(Collectors.toSet());
    var kubelet = nodeClass.getSpec().kubelet();
    OptionalInt maxPods = kubelet == null || kubelet.getMaxPods() == null ? OptionalInt.empty() : OptionalInt.of(kubelet.getMaxPods());
    long version = unavailable.version();
    Catalog current = catalog.get();
    Map<String, List<Offering>> more = extra.apply(nodeClass, current);
    Cached c = cached.get();
    if (c != null && c.catalog() == current && c.zones().equals(zones) && c.maxPods().equals(maxPods) && c.version() == version
        && c.extra().equals(more)) {
      return c.options();
    }
    List<InstanceOption> fresh = InstanceOptions.from(current, zones, maxPods,
        (t, o) -> unavailable.isUnavailable(t.name(), o.zone(), o.capacityType()), more);
    cached.set(new Cached(current, zones, maxPods, version, more, fresh));
    return fresh;
  }

  public UnavailableOfferings unavailable() {
    return unavailable;
  }
}
