package dev.dovetail.api.catalog;

import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** What a node's capacity is bought as, in the values of {@code karpenter.sh/capacity-type}. */
public enum CapacityType {
  SPOT(WellKnownLabels.SPOT),
  ON_DEMAND(WellKnownLabels.ON_DEMAND),
  /** On-demand capacity from a capacity reservation; counts as on-demand for distribution. */
  RESERVED(WellKnownLabels.RESERVED);

  /** EKS managed node groups label their nodes with this key (values SPOT, ON_DEMAND). */
  public static final String EKS_CAPACITY_TYPE = "eks.amazonaws.com/capacityType";

  private final String label;

  CapacityType(String label) {
    this.label = label;
  }

  /** The label value ({@code spot}, {@code on-demand}, {@code reserved}). */
  public String label() {
    return label;
  }

  /** Spot or not: the only distinction a distribution rule makes. */
  public boolean isSpot() {
    return this == SPOT;
  }

  public static Optional<CapacityType> fromLabel(String value) {
    if (value == null) {
      return Optional.empty();
    }
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "spot" -> Optional.of(SPOT);
      case "on-demand", "on_demand", "ondemand" -> Optional.of(ON_DEMAND);
      case "reserved" -> Optional.of(RESERVED);
      default -> Optional.empty();
    };
  }

  /** The capacity type of a node from its labels: Karpenter's label, else the EKS managed node group's. */
  public static Optional<CapacityType> ofNode(Map<String, String> labels) {
    if (labels == null) {
      return Optional.empty();
    }
    Optional<CapacityType> karpenter = fromLabel(labels.get(WellKnownLabels.CAPACITY_TYPE));
    return karpenter.isPresent() ? karpenter : fromLabel(labels.get(EKS_CAPACITY_TYPE));
  }
}
