package dev.dovetail.provisioner.config;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfigSpec;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfigStatus.ComputedLimits;
import dev.dovetail.api.config.v1alpha1.ClusterPreferences;
import dev.dovetail.api.config.v1alpha1.NodePoolLimits;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.scheduling.Resources;
import dev.dovetail.provisioner.kube.Conditions;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Quantity;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Capacity limits for the NodePools the ClusterOrchestratorConfig manages (F15): a pool's own
 * {@code spec.limits} win; a pool without any gets the config's cluster-level limits
 * ({@code clusterPreferences.nodepoolLimits}) or, with none, twice the cluster's allocatable CPU (whole
 * cores) and memory (whole GiB) over its Ready nodes, refreshed as the cluster grows (never lowered). They
 * are written into the pool's {@code spec.limits} with {@link DovetailLabels#DEFAULT_LIMITS} saying so,
 * which keeps them visible ({@code kubectl get nodepools -o wide}) and tells them apart: limits that no
 * longer match the annotation were set by someone, and from then on are the pool's own. Pure.
 */
final class DefaultLimits {
  private static final BigDecimal GIB = BigDecimal.valueOf(1024L * 1024 * 1024);

  private DefaultLimits() {
  }

  /** Twice the allocatable CPU and memory of the Ready nodes; empty when there are none to go by. */
  static Optional<ComputedLimits> compute(List<Node> nodes, Instant now) {
    Resources total = Resources.NONE;
    for (Node n : nodes) {
      if (Conditions.nodeReady(n) && n.getStatus() != null && n.getStatus().getAllocatable() != null) {
        total = total.plus(Resources.of(n.getStatus().getAllocatable()));
      }
    }
    if (total.cpuMillis() <= 0 || total.memoryBytes() <= 0) {
      return Optional.empty();
    }
    long cores = -Math.floorDiv(-2 * total.cpuMillis(), 1000);
    long gib = BigDecimal.valueOf(2 * total.memoryBytes()).divide(GIB, 0, RoundingMode.CEILING).longValueExact();
    return Optional.of(new ComputedLimits(Long.toString(cores), gib + "Gi", now.toString()));
  }

  /** The stored limits, unless the cluster has grown past them (or none are stored). */
  static ComputedLimits refreshed(Optional<ComputedLimits> stored, ComputedLimits now) {
    if (stored.isEmpty() || stored.get().cpu() == null || stored.get().memory() == null) {
      return now;
    }
    // Each dimension on its own: one that grew is raised, one that did not keeps its value.
    boolean cpuGrew = new Quantity(now.cpu()).getNumericalAmount().compareTo(new Quantity(stored.get().cpu()).getNumericalAmount()) > 0;
    boolean memoryGrew = new Quantity(now.memory()).getNumericalAmount().compareTo(new Quantity(stored.get().memory()).getNumericalAmount()) > 0;
    if (!cpuGrew && !memoryGrew) {
      return stored.get();
    }
    return new ComputedLimits(cpuGrew ? now.cpu() : stored.get().cpu(), memoryGrew ? now.memory() : stored.get().memory(), now.computedAt());
  }

  /** The config's cluster-level limits, when it sets at least one of them. */
  static Optional<NodePoolLimits> clusterLevel(ClusterOrchestratorConfigSpec spec) {
    return Optional.ofNullable(spec.clusterPreferences()).map(ClusterPreferences::nodepoolLimits).filter(l -> l.cpu() != null || l.memory() != null);
  }

  /** The limits for pools without their own: the cluster-level ones ({@link #clusterLevel}) when configured, else the computed ones. */
  static Map<String, String> effective(Optional<NodePoolLimits> clusterLevel, ComputedLimits computed) {
    Map<String, String> out = new LinkedHashMap<>();
    if (clusterLevel.isPresent()) {
      Optional.ofNullable(clusterLevel.get().cpu()).ifPresent(q -> out.put("cpu", q.toString()));
      Optional.ofNullable(clusterLevel.get().memory()).ifPresent(q -> out.put("memory", q.toString()));
      return out;
    }
    out.put("cpu", computed.cpu());
    out.put("memory", computed.memory());
    return out;
  }

  /** The annotation's form: {@code cpu=64,memory=256Gi}, keys sorted. */
  static String text(Map<String, ?> limits) {
    StringBuilder b = new StringBuilder();
    limits.keySet().stream().sorted().forEach(k -> b.append(b.length() == 0 ? "" : ",").append(k).append('=').append(limits.get(k)));
    return b.toString();
  }

  /** Whether the pool's limits are its own: set, and not what Dovetail last wrote there. */
  static boolean explicit(NodePool pool) {
    Map<String, Quantity> limits = pool.getSpec().limits();
    if (limits == null || limits.isEmpty()) {
      return false;
    }
    String written = pool.getMetadata().getAnnotations() == null ? null : pool.getMetadata().getAnnotations().get(DovetailLabels.DEFAULT_LIMITS);
    return written == null || !written.equals(text(limits));
  }

  /**
   * The merge patch that gives the pool {@code limits}, or that drops a stale annotation from a pool whose
   * limits became its own; empty when nothing changes. Static pools ({@code spec.replicas}) take none.
   */
  static Optional<Map<String, Object>> patch(NodePool pool, Map<String, String> limits) {
    if (pool.getSpec().replicas() != null) {
      return Optional.empty();
    }
    Map<String, String> annotations = pool.getMetadata().getAnnotations() == null ? Map.of() : pool.getMetadata().getAnnotations();
    if (explicit(pool)) {
      if (!annotations.containsKey(DovetailLabels.DEFAULT_LIMITS)) {
        return Optional.empty();
      }
      Map<String, Object> drop = new HashMap<>();
      drop.put(DovetailLabels.DEFAULT_LIMITS, null);
      return Optional.of(Map.of("metadata", Map.of("annotations", drop)));
    }
    Map<String, Quantity> current = pool.getSpec().limits() == null ? Map.of() : pool.getSpec().limits();
    if (text(current).equals(text(limits)) && text(limits).equals(annotations.get(DovetailLabels.DEFAULT_LIMITS))) {
      return Optional.empty();
    }
    // A merge patch keeps keys it does not name: those the new limits drop are set to null.
    Map<String, Object> written = new HashMap<>(limits);
    current.keySet().stream().filter(k -> !limits.containsKey(k)).forEach(k -> written.put(k, null));
    return Optional.of(Map.of("metadata", Map.of("annotations", Map.of(DovetailLabels.DEFAULT_LIMITS, text(limits))),
        "spec", Map.of("limits", written)));
  }
}
