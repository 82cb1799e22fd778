package dev.dovetail.api.scheduling;

import java.util.List;

/**
 * A node the simulation decided to launch: from which NodePool, with which requirements, on which
 * instance types (cheapest first), sized for which pods (requests include the DaemonSet overhead).
 */
public record NewClaim(ClaimTemplate template, Requirements requirements, List<InstanceOption> options, Resources requests,
    List<String> podUids) {
  public NewClaim {
    options = List.copyOf(options);
    podUids = List.copyOf(podUids);
  }

  /** The cheapest option and its price under the claim's requirements. */
  public InstanceOption cheapest() {
    return options.get(0);
  }
}
