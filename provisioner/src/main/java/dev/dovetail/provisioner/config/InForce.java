package dev.dovetail.provisioner.config;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfigSpec;
import dev.dovetail.api.config.v1alpha1.Consolidation;
import dev.dovetail.api.config.v1alpha1.PodEvictor;
import dev.dovetail.api.karpenter.v1.Budget;
import dev.dovetail.api.karpenter.v1.Disruption;
import dev.dovetail.api.karpenter.v1.NodePool;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a ClusterOrchestratorConfig puts in force on the NodePools that opt in (label
 * {@code dovetail.dev/orchestrated=true}), as Harness maps its cluster preferences onto Karpenter's: the
 * deletion criteria become {@code consolidationPolicy}, the node deletion delay {@code consolidateAfter},
 * the budgets {@code disruption.budgets} (left as the pool has them when the config names none), the node
 * TTL {@code template.spec.expireAfter}. Without bin-packing (the pod evictor) or without a deletion
 * delay the cluster never scales down: {@code consolidateAfter} is {@code Never}, and
 * {@link #scaleDownOff()} says why.
 *
 * @param consolidateAfter the delay written, {@code Never} when scale-down is off
 * @param budgets the budgets written, or null to leave the pool's
 * @param scaleDownOff why the cluster does not scale down, if it does not
 * @param podEvictor the bin-packing rules under-used nodes of managed pools must meet (null when off)
 */
public record InForce(Disruption.ConsolidationPolicy policy, String consolidateAfter, List<Budget> budgets, String expireAfter,
    Optional<String> scaleDownOff, PodEvictor podEvictor) {
  /** The node TTL when the config sets none (the CRD's default, as the Harness chart's). */
  public static final String DEFAULT_NODE_EXPIRY = "720h";
  private static final ObjectMapper JSON = new ObjectMapper();

  public InForce {
    budgets = budgets == null ? null : List.copyOf(budgets);
  }

  public static InForce of(ClusterOrchestratorConfigSpec spec) {
    Consolidation c = spec.consolidation() == null ? new Consolidation(null, null, null, null, null, null, null) : spec.consolidation();
    PodEvictor evictor = c.podEvictor() != null && Boolean.TRUE.equals(c.podEvictor().enabled()) ? c.podEvictor() : null;
    Optional<String> delay = c.deletionDelay().filter(d -> !"Never".equals(d));
    Optional<String> off;
    if (evictor == null) {
      off = Optional.of("bin-packing is off (consolidation.podEvictor.enabled is not true)");
    } else if (delay.isEmpty()) {
      off = Optional.of("no node deletion delay is set (consolidation.after)");
    } else {
      off = Optional.empty();
    }
    return new InForce(c.consolidationPolicy(), off.isPresent() ? "Never" : delay.get(), c.budgets(),
        c.nodeExpiry() == null ? DEFAULT_NODE_EXPIRY : c.nodeExpiry(), off, evictor);
  }

  /**
   * The JSON merge patch that brings a pool's spec to these settings, or empty when it has them. Only
   * the fields this config owns are in it, so the rest of the pool stays the user's.
   */
  public Optional<Map<String, Object>> patch(NodePool pool) {
    Disruption now = pool.getSpec().disruption();
    Map<String, Object> disruption = new LinkedHashMap<>();
    if (now == null || now.consolidationPolicy() != policy) {
      disruption.put("consolidationPolicy", policy.name());
    }
    if (now == null || !consolidateAfter.equals(now.consolidateAfter())) {
      disruption.put("consolidateAfter", consolidateAfter);
    }
    if (budgets != null && (now == null || !budgets.equals(now.budgets()))) {
      disruption.put("budgets", budgets.stream().map(b -> JSON.convertValue(b, Map.class)).toList());
    }
    Map<String, Object> spec = new LinkedHashMap<>();
    if (!disruption.isEmpty()) {
      spec.put("disruption", disruption);
    }
    String expiry = pool.getSpec().template() == null || pool.getSpec().template().spec() == null ? null
        : pool.getSpec().template().spec().expireAfter();
    if (!Objects.equals(expireAfter, expiry)) {
      spec.put("template", Map.of("spec", Map.of("expireAfter", expireAfter)));
    }
    return spec.isEmpty() ? Optional.empty() : Optional.of(Map.of("spec", spec));
  }

  /** What the pools get, in a line for Events and logs. */
  public String describe() {
    return "consolidationPolicy " + policy + ", consolidateAfter " + consolidateAfter + ", expireAfter " + expireAfter
        + (budgets == null ? "" : ", " + budgets.size() + " budget(s)");
  }
}
