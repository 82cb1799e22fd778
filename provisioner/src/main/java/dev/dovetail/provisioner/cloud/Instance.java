package dev.dovetail.provisioner.cloud;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.Offering;
import dev.dovetail.api.scheduling.Resources;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * A launched instance as the provisioner needs to know it: where it runs, what it is, the labels its
 * node gets from the instance type and offering, and which NodeClaim it was launched for (its tag).
 */
public record Instance(String providerId, String nodeClaim, String instanceType, String zone, CapacityType capacityType,
    double pricePerHour, Resources capacity, Resources allocatable, String imageId, Map<String, String> labels, Instant launchedAt) {
  public Instance {
    labels = Map.copyOf(labels);
  }

  /**
   * The instance launched as this candidate: the node labels its type's requirements give (arch, family,
   * CPU, memory, …), its zone, zone ID and capacity type, and its catalog price.
   */
  public static Instance launched(String instanceId, String nodeClaim, LaunchPlan.Candidate c, String imageId, Instant at) {
    Offering o = c.offering();
    Map<String, String> labels = new TreeMap<>(c.option().requirements().singleValues());
    labels.put(WellKnownLabels.ZONE, o.zone());
    labels.put(WellKnownLabels.CAPACITY_TYPE, o.capacityType().label());
    labels.put(WellKnownLabels.ZONE_ID, zoneId(o.zone()));
    return new Instance(providerId(o.zone(), instanceId), nodeClaim, c.option().name(), o.zone(), o.capacityType(), o.pricePerHour(),
        c.option().capacity(), c.option().allocatable(), imageId, labels, at);
  }

  /** Karpenter's provider id form for an EC2 instance. */
  public static String providerId(String zone, String instanceId) {
    return new ProviderId(zone, instanceId).toString();
  }

  /** The zone ID of a us-east-1 style zone name by its letter (use1-az1 for us-east-1a), as the catalog has no ID map. */
  static String zoneId(String zone) {
    return "use1-az" + (zone.charAt(zone.length() - 1) - 'a' + 1);
  }

  /** The instance id at the end of an {@code aws:///<zone>/<id>} provider id. */
  public String instanceId() {
    return ProviderId.instanceIdOf(providerId);
  }
}
