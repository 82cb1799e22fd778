package dev.dovetail.api.scheduling;

import dev.dovetail.api.catalog.CapacityType;

/**
 * One way to buy an instance type: in a zone, as a capacity type, at a price, if capacity is there now.
 *
 * @param committed on-demand capacity an unused commitment (a Reserved Instance) covers: priced at its
 *     effective price, launched before spot and plain on-demand, while the commitment has room
 */
public record Offering(String zone, CapacityType capacityType, double pricePerHour, boolean available, boolean committed) {
  public Offering(String zone, CapacityType capacityType, double pricePerHour, boolean available) {
    this(zone, capacityType, pricePerHour, available, false);
  }

  public Offering unavailable() {
    return new Offering(zone, capacityType, pricePerHour, false, committed);
  }
}
