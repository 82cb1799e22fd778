package dev.dovetail.provisioner.disruption;

/**
 * Why a node is disrupted, as Karpenter names it: the {@code reason} label of
 * {@code karpenter_nodeclaims_disrupted_total} and the reasons a NodePool's disruption budgets can name.
 */
public enum Reason {
  /** Older than the claim's {@code expireAfter}: replaced whatever runs there, outside budgets. */
  EXPIRED("expired", "Expired"),
  /** A spot interruption, rebalance recommendation, scheduled change or stop notice. */
  INTERRUPTED("interrupted", "Interrupted"),
  /** Node repair: a node condition unhealthy past its toleration; outside budgets, the drain bounded at once. */
  UNHEALTHY("unhealthy", "Unhealthy"),
  EMPTY("empty", "Empty"),
  DRIFTED("drifted", "Drifted"),
  UNDERUTILIZED("underutilized", "Underutilized"),
  /**
   * Dovetail's: on-demand capacity standing in for spot replaced with spot once spot is back; outside
   * Karpenter's budgets (no budget names it), one replacement per NodePool at a time.
   */
  REVERSE_FALLBACK("reverse_fallback", "ReverseFallback");

  private final String label;
  private final String budgetName;

  Reason(String label, String budgetName) {
    this.label = label;
    this.budgetName = budgetName;
  }

  /** The metric label ({@code expired}, {@code underutilized}, ...). */
  public String label() {
    return label;
  }

  /** The name a NodePool budget's {@code reasons} list uses ({@code Empty}, {@code Drifted}, {@code Underutilized}). */
  public String budgetName() {
    return budgetName;
  }
}
