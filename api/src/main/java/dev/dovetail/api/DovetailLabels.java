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

  /** NodeClaim annotation on fallback capacity: why spot could not hold the replicas it was launched for. */
  public static final String CAPACITY_FALLBACK_REASON = "dovetail.dev/capacity-fallback-reason";

  /**
   * On a NodeClaim: the provisioning pass that created it. Nodes of one pass are released to the
   * scheduler together, so topology spread sees every zone they were planned in at once.
   */
  public static final String LAUNCH_GROUP = "dovetail.dev/launch-group";

  /**
   * NodeClaim annotation: the distribution strategy ({@code CostOptimized} or {@code LeastInterrupted}) of
   * the workloads a claim was launched for; the AWS provider picks the spot allocation strategy by it.
   */
  public static final String SPOT_STRATEGY = "dovetail.dev/distribution-strategy";

  /**
   * On a NodeClaim: the interrupt listener saw a notice for its instance ({@code <kind>@<RFC 3339 time>},
   * e.g. {@code spot-interruption@2026-11-24T00:30:27Z}). The provisioner launches capacity for the node's
   * pods at once, and an interrupted spot offering is not launched again for a while.
   */
  public static final String INTERRUPTION = "dovetail.dev/interruption";
  /** On an interrupted NodeClaim: its pods have room on a Ready node elsewhere (see {@code NodeMarks.REPLACEMENT_READY}). */
  public static final String REPLACEMENT_READY = "dovetail.dev/replacement-ready";

  /** Taint (NoSchedule) the interrupt listener adds next to {@code karpenter.sh/disrupted}; its value is the notice's action. */
  public static final String SPOT_INTERRUPTION_TAINT = "dovetail.dev/spot-interruption";

  /** Taint (NoSchedule) for a rebalance recommendation: the instance is at elevated risk of interruption. */
  public static final String REBALANCE_TAINT = "dovetail.dev/rebalance-recommendation";

  /**
   * On a NodePool, with value {@code true}: the pool takes its consolidation policy, deletion delay
   * ({@code consolidateAfter}), budgets and node TTL ({@code expireAfter}) from the ClusterOrchestratorConfig,
   * which writes them into the pool's spec, and its under-used nodes are consolidated by the config's pod
   * evictor rules (thresholds, single replicas, evictions per pass). Pools without it keep their own spec.
   */
  public static final String ORCHESTRATED = "dovetail.dev/orchestrated";

  /**
   * On a managed NodePool: the {@code spec.limits} Dovetail wrote there (the ClusterOrchestratorConfig's
   * cluster-level limits, or twice the cluster's capacity), as {@code cpu=64,memory=256Gi}. Limits that
   * differ from it were set by someone else and are left alone.
   */
  public static final String DEFAULT_LIMITS = "dovetail.dev/default-limits";

}
