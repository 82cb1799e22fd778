package dev.dovetail.api.distribution;

import dev.dovetail.api.catalog.CapacityType;

/**
 * Where a workload's replicas are (bound, plus placed but not yet bound).
 *
 * @param spot replicas on spot capacity
 * @param onDemand replicas on on-demand (or reserved) capacity that hold on-demand places
 * @param fallback spot-designated replicas running on on-demand capacity because spot was unavailable
 *     (or covered by a commitment); they count towards the spot target
 */
public record ReplicaCounts(int spot, int onDemand, int fallback) {
  public static final ReplicaCounts NONE = new ReplicaCounts(0, 0, 0);

  public ReplicaCounts {
    if (spot < 0 || onDemand < 0 || fallback < 0) {
      throw new IllegalArgumentException("replica counts must not be negative");
    }
  }

  public int total() {
    return spot + onDemand + fallback;
  }

  /** Replicas holding spot places: on spot, or on on-demand as fallback. */
  public int spotPlaces() {
    return spot + fallback;
  }

  public ReplicaCounts plus(CapacityType type) {
    return type.isSpot() ? new ReplicaCounts(spot + 1, onDemand, fallback) : new ReplicaCounts(spot, onDemand + 1, fallback);
  }
}
