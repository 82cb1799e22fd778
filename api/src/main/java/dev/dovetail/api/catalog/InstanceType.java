package dev.dovetail.api.catalog;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One EC2 instance type of the catalog: its shape, where it is offered, and what it costs.
 *
 * @param architectures Kubernetes architecture names ({@code amd64}, {@code arm64})
 * @param spotSavingsPercent spot discount versus on-demand, when the Spot Instance Advisor has it
 * @param interruption interruption-frequency bucket, when the Spot Instance Advisor has it
 * @param spotPricesByZone the current spot price per zone, when the cloud has told us (EC2's spot price
 *                         history); where it has not, the spot price is estimated from the savings
 */
public record InstanceType(
    String name,
    String family,
    String size,
    int vcpu,
    long memoryMiB,
    List<String> architectures,
    int gpuCount,
    Optional<String> gpuManufacturer,
    Optional<String> gpuName,
    int maxNetworkInterfaces,
    int ipv4PerInterface,
    String hypervisor,
    boolean bareMetal,
    boolean burstable,
    boolean currentGeneration,
    Set<CapacityType> capacityTypes,
    List<String> zones,
    double onDemandPricePerHour,
    OptionalDouble spotSavingsPercent,
    Optional<InterruptionBucket> interruption,
    Map<String, Double> spotPricesByZone) {

  private static final Pattern FAMILY = Pattern.compile("^([a-z]+)([0-9]+)?.*$");

  public InstanceType {
    architectures = List.copyOf(architectures);
    capacityTypes = Set.copyOf(capacityTypes);
    zones = List.copyOf(zones);
    spotPricesByZone = Map.copyOf(spotPricesByZone);
  }

  /** The letters a family starts with: {@code m} for m5, {@code c} for c6gn, {@code x} for x2iedn. */
  public String category() {
    Matcher m = FAMILY.matcher(family);
    return m.matches() ? m.group(1) : family;
  }

  /** The generation digits after the category (5 for m5d); 0 when the family has none. */
  public int generation() {
    Matcher m = FAMILY.matcher(family);
    return m.matches() && m.group(2) != null ? Integer.parseInt(m.group(2)) : 0;
  }

  /** Pods the VPC CNI can address without prefix delegation: ENIs x (IPv4 per ENI - 1) + 2. */
  public int maxPods() {
    return maxNetworkInterfaces * (ipv4PerInterface - 1) + 2;
  }

  /**
   * Hourly spot price estimated from the on-demand price and the advisor's savings; without savings
   * data spot is priced like on-demand, so it is never chosen for being cheaper than it is.
   */
  public double spotPricePerHour() {
    return onDemandPricePerHour * (1 - spotSavingsPercent.orElse(0) / 100.0);
  }

  /** Spot in one zone: the price EC2 quoted for it, else the estimate. */
  public double spotPricePerHour(String zone) {
    Double quoted = zone == null ? null : spotPricesByZone.get(zone);
    return quoted != null ? quoted : spotPricePerHour();
  }

  public double pricePerHour(CapacityType type) {
    return type.isSpot() ? spotPricePerHour() : onDemandPricePerHour;
  }

  public double pricePerHour(CapacityType type, String zone) {
    return type.isSpot() ? spotPricePerHour(zone) : onDemandPricePerHour;
  }

  /** This type with prices from the cloud: an on-demand price and spot quotes by zone. */
  public InstanceType withPrices(double onDemand, Map<String, Double> spotByZone) {
    return new InstanceType(name, family, size, vcpu, memoryMiB, architectures, gpuCount, gpuManufacturer, gpuName, maxNetworkInterfaces,
        ipv4PerInterface, hypervisor, bareMetal, burstable, currentGeneration, capacityTypes, zones, onDemand, spotSavingsPercent,
        interruption, spotByZone);
  }

  public boolean offers(CapacityType type) {
    return capacityTypes.contains(type);
  }
}
