package dev.dovetail.provisioner.cloud.sim;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.runtime.DurationConverter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the simulated cloud does besides launching: offerings without capacity, failing launches, slow
 * API calls and instances that take a while to join. Read from command-line flags at start and, when
 * configured, replaced whenever the {@code dovetail-sim} ConfigMap changes, so tests and demos can
 * inject faults into a running provisioner.
 *
 * <p>ConfigMap keys: {@code insufficientCapacity} (comma- or newline-separated
 * {@code <instance-type>/<zone>/<capacity-type>} patterns, {@code *} matching anything),
 * {@code launchFailureRate} (0 to 1), {@code launchLatency} and {@code bootDelay} (durations such as
 * {@code 500ms} or {@code 5s}).
 *
 * @param insufficientCapacity offerings that have no capacity (launches there fail over to the next offering)
 * @param launchFailureRate share of launches that fail with an API error
 * @param launchLatency how long a launch call takes
 * @param bootDelay how long after launch the node registers
 */
public record SimFaults(List<OfferingPattern> insufficientCapacity, double launchFailureRate, Duration launchLatency, Duration bootDelay) {
  public static final SimFaults NONE = new SimFaults(List.of(), 0, Duration.ZERO, Duration.ZERO);

  public SimFaults {
    insufficientCapacity = List.copyOf(insufficientCapacity);
    if (launchFailureRate < 0 || launchFailureRate > 1) {
      throw new IllegalArgumentException("launchFailureRate must be between 0 and 1, was " + launchFailureRate);
    }
    if (launchLatency.isNegative() || bootDelay.isNegative()) {
      throw new IllegalArgumentException("launchLatency and bootDelay must not be negative");
    }
  }

  /** An offering pattern: instance type, zone, capacity type; {@code *} matches any. */
  public record OfferingPattern(String instanceType, String zone, String capacityType) {
    public static OfferingPattern parse(String text) {
      String[] parts = text.trim().split("/", -1);
      if (parts.length != 3 || List.of(parts).stream().anyMatch(String::isBlank)) {
        throw new IllegalArgumentException("an offering pattern is <instance-type>/<zone>/<capacity-type> ('*' for any), not '"
            + text.trim() + "'");
      }
      if (!parts[2].equals("*") && CapacityType.fromLabel(parts[2]).isEmpty()) {
        throw new IllegalArgumentException("unknown capacity type '" + parts[2] + "' in '" + text.trim()
            + "' (spot, on-demand, reserved or *)");
      }
      return new OfferingPattern(parts[0], parts[1], parts[2]);
    }

    public boolean matches(String type, String zoneName, CapacityType capacity) {
      return (instanceType.equals("*") || instanceType.equals(type)) && (zone.equals("*") || zone.equals(zoneName))
          && (capacityType.equals("*") || capacityType.equals(capacity.label()));
    }

    @Override
    public String toString() {
      return instanceType + "/" + zone + "/" + capacityType;
    }
  }

  public boolean noCapacity(String type, String zone, CapacityType capacity) {
    for (OfferingPattern p : insufficientCapacity) {
      if (p.matches(type, zone, capacity)) {
        return true;
      }
    }
    return false;
  }

  public static List<OfferingPattern> patterns(String text) {
    List<OfferingPattern> out = new ArrayList<>();
    if (text == null) {
      return out;
    }
    for (String part : text.split("[,\\n]")) {
      if (!part.isBlank()) {
        out.add(OfferingPattern.parse(part));
      }
    }
    return out;
  }

  /** Faults from a ConfigMap's data; keys left out keep {@code defaults}' values. */
  public static SimFaults fromConfigMap(Map<String, String> data, SimFaults defaults) {
    if (data == null) {
      return defaults;
    }
    DurationConverter durations = new DurationConverter();
    return new SimFaults(
        Optional.ofNullable(data.get("insufficientCapacity")).map(SimFaults::patterns).orElse(defaults.insufficientCapacity()),
        Optional.ofNullable(data.get("launchFailureRate")).map(String::trim).map(Double::parseDouble).orElse(defaults.launchFailureRate()),
        Optional.ofNullable(data.get("launchLatency")).map(String::trim).map(durations::convert).orElse(defaults.launchLatency()),
        Optional.ofNullable(data.get("bootDelay")).map(String::trim).map(durations::convert).orElse(defaults.bootDelay()));
  }
}
