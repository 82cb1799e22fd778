package dev.dovetail.api.distribution;

/** How many of a workload's replicas belong on on-demand and on spot capacity. */
public record Targets(int onDemand, int spot) {
  public int total() {
    return onDemand + spot;
  }
}
