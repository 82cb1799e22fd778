package dev.dovetail.provisioner.disruption;

import java.util.Map;

/**
 * How many more nodes each NodePool may have disrupted now, per reason. Forceful methods (expiry,
 * interruption) act outside budgets, as Karpenter's do; graceful ones take only what their pool allows.
 */
public record Budgets(Map<String, Map<Reason, Integer>> allowed) {
  /** No limit anywhere. */
  public static final Budgets UNLIMITED = new Budgets(Map.of());

  public Budgets {
    allowed = Map.copyOf(allowed);
  }

  /** Nodes of {@code nodePool} that may still be disrupted for {@code reason} (unlimited unless a budget says otherwise). */
  public int allowed(String nodePool, Reason reason) {
    Map<Reason, Integer> byReason = allowed.get(nodePool);
    return byReason == null ? Integer.MAX_VALUE : byReason.getOrDefault(reason, Integer.MAX_VALUE);
  }
}
