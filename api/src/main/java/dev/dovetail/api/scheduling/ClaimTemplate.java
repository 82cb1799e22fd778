package dev.dovetail.api.scheduling;

import io.fabric8.kubernetes.api.model.Taint;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * What a NodePool can launch, for the simulation: its requirements (pool requirements and template
 * labels), taints, the resources its DaemonSets take on every node, its instance options (cheapest
 * first) and how much its limits still allow.
 *
 * @param remainingLimits resources (and {@code nodes}) the pool may still add; null means unlimited
 */
public record ClaimTemplate(String nodePool, int weight, Requirements requirements, Map<String, String> labels, List<Taint> taints,
    Resources daemonOverhead, List<InstanceOption> options, Resources remainingLimits) {

  public ClaimTemplate {
    labels = Map.copyOf(labels);
    taints = taints == null ? List.of() : List.copyOf(taints);
    Requirements constraints = requirements;
    // Only options the pool allows, cheapest first: the order ranks every claim's choices.
    options = options.stream().filter(o -> o.requirements().intersects(constraints) && o.offerable(constraints))
        .sorted(Comparator.comparingDouble(o -> o.cheapestPrice(constraints))).toList();
  }

  /** Pools by weight, heaviest first (Karpenter's order), then by name. */
  public static final Comparator<ClaimTemplate> BY_WEIGHT =
      Comparator.comparingInt((ClaimTemplate t) -> -t.weight()).thenComparing(ClaimTemplate::nodePool);
}
