package dev.dovetail.state;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.catalog.InstanceType;
import dev.dovetail.api.catalog.InterruptionBucket;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.Resources;
import io.fabric8.kubernetes.api.model.Node;
import java.util.Map;
import java.util.Optional;

/**
 * What scheduling decisions need to know about a node, derived once per node update.
 *
 * @param capacityType from {@code karpenter.sh/capacity-type} (or the EKS managed node group label)
 * @param fallback on-demand capacity standing in for unavailable spot ({@link DovetailLabels#CAPACITY_FALLBACK})
 * @param pricePerHour from the catalog for the instance type and capacity type; NaN when unknown
 * @param interruptionRank 0 (on-demand, or spot with under 5% interruptions) to 5 (spot, no data)
 */
public record NodeFacts(
    String name,
    Optional<CapacityType> capacityType,
    boolean fallback,
    String zone,
    String instanceType,
    String nodePool,
    double pricePerHour,
    int interruptionRank,
    Resources allocatable,
    boolean schedulable) {

  /** Whether replicas here hold spot places (spot, or fallback for spot) for the distribution. */
  public boolean holdsSpotPlaces() {
    return capacityType.map(CapacityType::isSpot).orElse(false) || fallback;
  }

  public static NodeFacts of(Node node, Catalog catalog) {
    Map<String, String> labels = node.getMetadata().getLabels() == null ? Map.of() : node.getMetadata().getLabels();
    Optional<CapacityType> type = CapacityType.ofNode(labels);
    String instanceType = label(labels, WellKnownLabels.INSTANCE_TYPE, "beta.kubernetes.io/instance-type");
    Optional<InstanceType> known = catalog.get(instanceType);
    String zone = label(labels, WellKnownLabels.ZONE, "failure-domain.beta.kubernetes.io/zone");
    double price = known.isPresent() && type.isPresent() ? known.get().pricePerHour(type.get(), zone) : Double.NaN;
    int rank = type.isPresent() && type.get().isSpot() ? InterruptionBucket.rank(known.flatMap(InstanceType::interruption)) : 0;
    Resources allocatable = node.getStatus() == null ? Resources.NONE : Resources.of(node.getStatus().getAllocatable());
    boolean schedulable = node.getSpec() == null || !Boolean.TRUE.equals(node.getSpec().getUnschedulable());
    return new NodeFacts(node.getMetadata().getName(), type, "true".equals(labels.get(DovetailLabels.CAPACITY_FALLBACK)),
        zone, instanceType,
        labels.getOrDefault(WellKnownLabels.NODEPOOL, ""), price, rank, allocatable, schedulable);
  }

  private static String label(Map<String, String> labels, String key, String betaKey) {
    String v = labels.get(key);
    return v != null ? v : labels.getOrDefault(betaKey, "");
  }
}
