package dev.dovetail.provisioner.cloud;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.InstanceOption;
import dev.dovetail.api.scheduling.Offering;
import dev.dovetail.api.scheduling.Requirements;
import dev.dovetail.api.scheduling.Resources;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The offerings a NodeClaim may launch as, in the order a launch tries them: the instance types its
 * requirements allow whose allocatable fits its requests, each in the zones and capacity types it
 * allows. Like Karpenter, reserved capacity is used first, then spot, then on-demand, cheapest first
 * within each: a claim that allows spot launches on-demand only when no spot offering is available.
 */
public record LaunchPlan(Requirements requirements, Resources requests, List<Candidate> candidates) {
  /** One offering of one instance type. */
  public record Candidate(InstanceOption option, Offering offering) {
  }

  public LaunchPlan {
    candidates = List.copyOf(candidates);
  }

  private static int rank(CapacityType type) {
    return switch (type) {
      case RESERVED -> 0;
      case SPOT -> 1;
      case ON_DEMAND -> 2;
    };
  }

  /** A plan without candidates: just what the claim asks for (its requirements and requests). */
  public static LaunchPlan requirementsOf(NodeClaim claim) {
    var spec = claim.getSpec();
    Requirements requirements = Requirements.ofKarpenter(spec.requirements() == null ? List.of() : spec.requirements());
    Map<String, Quantity> requested = spec.resources() == null ? null : spec.resources().requests();
    return new LaunchPlan(requirements, requested == null ? Resources.NONE : Resources.of(requested), List.of());
  }

  public static LaunchPlan of(NodeClaim claim, List<InstanceOption> options) {
    LaunchPlan asked = requirementsOf(claim);
    Requirements requirements = asked.requirements();
    Resources requests = asked.requests();
    List<Candidate> out = new ArrayList<>();
    for (InstanceOption o : options) {
      if (!o.requirements().intersects(requirements) || !requests.fitsIn(o.allocatable())) {
        continue;
      }
      for (Offering off : o.offerings()) {
        if (off.available() && allows(requirements, off)) {
          out.add(new Candidate(o, off));
        }
      }
    }
    // Capacity already paid for first (a reservation, on-demand an unused commitment covers), then spot, then on-demand.
    out.sort(Comparator.comparingInt((Candidate c) -> c.offering().committed() ? 0 : rank(c.offering().capacityType()))
        .thenComparingDouble(c -> c.offering().pricePerHour())
        .thenComparing(c -> c.option().name())
        .thenComparing(c -> c.offering().zone()));
    return new LaunchPlan(requirements, requests, out);
  }

  private static boolean allows(Requirements requirements, Offering o) {
    return requirements.get(WellKnownLabels.ZONE).map(r -> r.allows(o.zone())).orElse(true)
        && requirements.get(WellKnownLabels.CAPACITY_TYPE).map(r -> r.allows(o.capacityType().label())).orElse(true);
  }
}
