package dev.dovetail.api.scheduling;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import java.util.List;
import java.util.Optional;

/**
 * An instance type as the scheduler sees it: the labels a node of this type gets (as requirements),
 * its capacity, what the kubelet and system reserve, and the offerings it can be bought with.
 */
public final class InstanceOption {
  private final String name;
  private final Requirements requirements;
  private final Resources capacity;
  private final Resources overhead;
  private final Resources allocatable;
  private final List<Offering> offerings;

  public InstanceOption(String name, Requirements requirements, Resources capacity, Resources overhead, List<Offering> offerings) {
    this.name = name;
    this.requirements = requirements;
    this.capacity = capacity;
    this.overhead = overhead;
    this.allocatable = capacity.minus(overhead);
    this.offerings = List.copyOf(offerings);
  }

  public String name() {
    return name;
  }

  public Requirements requirements() {
    return requirements;
  }

  public Resources capacity() {
    return capacity;
  }

  public Resources overhead() {
    return overhead;
  }

  /** Capacity left for pods once the kubelet, system daemons and eviction thresholds are reserved. */
  public Resources allocatable() {
    return allocatable;
  }

  public List<Offering> offerings() {
    return offerings;
  }

  /** The cheapest available offering whose zone and capacity type the requirements allow. */
  public Optional<Offering> cheapestOffering(Requirements constraints) {
    Requirement zone = constraints.get(WellKnownLabels.ZONE).orElse(null);
    Requirement capacityType = constraints.get(WellKnownLabels.CAPACITY_TYPE).orElse(null);
    Offering best = null;
    for (Offering o : offerings) {
      if (o.available() && (zone == null || zone.allows(o.zone()))
          && (capacityType == null || capacityType.allows(o.capacityType().label()))
          && (best == null || o.pricePerHour() < best.pricePerHour())) {
        best = o;
      }
    }
    return Optional.ofNullable(best);
  }

  /** Price of {@link #cheapestOffering}, or {@code Double.POSITIVE_INFINITY} when nothing is available. */
  public double cheapestPrice(Requirements constraints) {
    return cheapestOffering(constraints).map(Offering::pricePerHour).orElse(Double.POSITIVE_INFINITY);
  }

  /** Whether some available offering satisfies the requirements. */
  public boolean offerable(Requirements constraints) {
    return cheapestOffering(constraints).isPresent();
  }

  public boolean offersCapacityType(CapacityType type) {
    return offerings.stream().anyMatch(o -> o.capacityType() == type);
  }

  @Override
  public String toString() {
    return name;
  }
}
