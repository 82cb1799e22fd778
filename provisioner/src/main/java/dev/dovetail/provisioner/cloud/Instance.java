package dev.dovetail.provisioner.cloud;

import dev.dovetail.api.distribution.CapacityType;
import dev.dovetail.api.scheduling.Resources;
import java.time.Instant;
import java.util.Map;

/**
 * A launched instance as the provisioner needs to know it: where it runs, what it is, the labels its
 * node gets from the instance type and offering, and which NodeClaim it was launched for (its tag).
 */
public record Instance(String providerId, String nodeClaim, String instanceType, String zone, CapacityType capacityType,
    double pricePerHour, Resources capacity, Resources allocatable, String imageId, Map<String, String> labels, Instant launchedAt) {
  public Instance {
    labels = Map.copyOf(labels);
  }

  /** The instance id at the end of an {@code aws:///<zone>/<id>} provider id. */
  public String instanceId() {
    return providerId.substring(providerId.lastIndexOf('/') + 1);
  }
}
