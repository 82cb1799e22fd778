package dev.dovetail.api.scheduling;

import dev.dovetail.api.catalog.CapacityType;

/** One way to buy an instance type: in a zone, as a capacity type, at a price, if capacity is there now. */
public record Offering(String zone, CapacityType capacityType, double pricePerHour, boolean available) {
  public Offering unavailable() {
    return new Offering(zone, capacityType, pricePerHour, false);
  }
}
