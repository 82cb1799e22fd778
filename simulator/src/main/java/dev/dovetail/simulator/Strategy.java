package dev.dovetail.simulator;

/** How the simulated cluster is run: Dovetail with each distribution strategy, all on-demand, or Karpenter alone. */
public enum Strategy {
  /** Dovetail, the rules' spot share, cheapest spot first (EC2 lowest-price), fallback and reverse fallback. */
  COST_OPTIMIZED("CostOptimized", true, false),
  /** Dovetail, the rules' spot share, the spot pools least likely to be interrupted first (EC2 capacity-optimized). */
  LEAST_INTERRUPTED("LeastInterrupted", true, true),
  /** Every replica on on-demand (a 0 % spot rule): the baseline savings are measured against. */
  ON_DEMAND("all on-demand", true, false),
  /**
   * Karpenter alone: one NodePool allowing spot and on-demand, no rules. Spot is launched while it can be
   * had and on-demand when it cannot; nothing brings replicas back to spot but consolidation.
   */
  KARPENTER("Karpenter-like, no rules", false, false);

  private final String label;
  private final boolean rules;
  private final boolean leastInterrupted;

  Strategy(String label, boolean rules, boolean leastInterrupted) {
    this.label = label;
    this.rules = rules;
    this.leastInterrupted = leastInterrupted;
  }

  public String label() {
    return label;
  }

  /** Whether replicas follow distribution rules (and fall back and go back to spot as Dovetail does). */
  public boolean rules() {
    return rules;
  }

  /** Whether spot launches try the least interrupted pools first. */
  public boolean leastInterrupted() {
    return leastInterrupted;
  }
}
