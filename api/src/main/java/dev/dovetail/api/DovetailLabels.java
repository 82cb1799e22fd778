package dev.dovetail.api;

/** Labels, annotations and taints Dovetail adds on top of Karpenter's. */
public final class DovetailLabels {
  private DovetailLabels() {
  }

  /**
   * On a Node or NodeClaim: on-demand capacity launched because spot capacity was unavailable. Its
   * replicas hold spot places of their workloads' distribution, and reverse fallback replaces it with spot.
   */
  public static final String CAPACITY_FALLBACK = "dovetail.dev/capacity-fallback";

  /**
   * On a NodeClaim: the provisioning pass that created it. Nodes of one pass are released to the
   * scheduler together, so topology spread sees every zone they were planned in at once.
   */
  public static final String LAUNCH_GROUP = "dovetail.dev/launch-group";
}
