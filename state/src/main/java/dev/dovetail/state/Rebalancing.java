package dev.dovetail.state;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.distribution.Distribution;
import dev.dovetail.api.distribution.PodFacts;
import dev.dovetail.api.distribution.ReplicaCounts;
import dev.dovetail.api.distribution.RuleSet;
import dev.dovetail.api.distribution.Targets;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Robust distribution (F18): the running replicas to move so each workload's split converges to what its
 * rule wants now (after the rule changed, or replicas landed on the wrong capacity type), one replica per
 * workload at a time. A workload is looked at only when it is settled: exactly its desired replicas, all
 * bound, Running and Ready, on nodes of known capacity type; otherwise it is still moving and the next look
 * sees where it ends. With more replicas on spot places (spot, or on-demand standing in for spot) than
 * the rule's spot target, a replica leaves a spot place for on-demand, fallback capacity first (it costs
 * on-demand prices anyway); with more on on-demand than its target, one leaves on-demand for spot. The
 * replica that moves is the newest, so the longest-running stay; a StatefulSet's replicas go by ordinal, as
 * the decision places them (the lowest on on-demand), so only one whose ordinal wants the other type moves.
 * Pure: the caller evicts.
 */
public final class Rebalancing {
  private Rebalancing() {
  }

  /** One replica to move, and why: its workload, rule, the rule's split and the running one. */
  public record Move(Pod pod, String node, WorkloadKey workload, String rule, Targets targets, ReplicaCounts running, CapacityType to) {
    /** What the pod's and the rule's Events say. */
    public String message() {
      return workload + " runs " + running.spotPlaces() + " spot / " + running.onDemand() + " on-demand, rule " + rule + " wants "
          + targets.spot() + " spot / " + targets.onDemand() + " on-demand of " + targets.total() + ": moving replica "
          + pod.getMetadata().getName() + " off node " + node + " to " + to.label();
    }
  }

  /** A workload's live pods as found: bound ones with their node's facts, and whether any is not settled. */
  private static final class Found {
    final List<Pod> bound = new ArrayList<>();
    final Map<String, NodeFacts> nodes = new LinkedHashMap<>();
    RuleSet.Entry rule;
    boolean unsettled;
  }

  /** The moves for the pods' workloads under rules, at most one per workload. */
  public static List<Move> moves(ClusterView view, Iterable<Pod> pods, Set<String> exemptNamespaces) {
    return moves(view, pods, exemptNamespaces, p -> true);
  }

  /** {@link #moves(ClusterView, Iterable, Set)}, choosing only pods {@code movable} accepts (the others still count). */
  public static List<Move> moves(ClusterView view, Iterable<Pod> pods, Set<String> exemptNamespaces, Predicate<Pod> movable) {
    if (!view.synced()) {
      return List.of();
    }
    Map<WorkloadKey, Found> byWorkload = new LinkedHashMap<>();
    Map<WorkloadKey, Workload> workloads = new LinkedHashMap<>();
    for (Pod pod : pods) {
      String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
      if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
        continue;
      }
      PodFacts facts = PodFacts.of(pod);
      if (facts.exemption(exemptNamespaces).isPresent()) {
        continue;
      }
      Optional<RuleSet.Entry> rule = view.rules().forNamespace(facts.namespace());
      if (rule.isEmpty()) {
        continue;
      }
      Workload workload = view.workloadOf(facts);
      workloads.putIfAbsent(workload.key(), workload);
      Found found = byWorkload.computeIfAbsent(workload.key(), k -> new Found());
      found.rule = rule.get();
      String node = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
      Optional<NodeFacts> nodeFacts = node == null ? Optional.empty() : view.node(node);
      if (pod.getMetadata().getDeletionTimestamp() != null || !"Running".equals(phase) || !ready(pod) || nodeFacts.isEmpty()
          || nodeFacts.get().capacityType().isEmpty()) {
        found.unsettled = true;
        continue;
      }
      found.bound.add(pod);
      found.nodes.put(pod.getMetadata().getUid(), nodeFacts.get());
    }
    List<Move> out = new ArrayList<>();
    byWorkload.forEach((key, found) -> {
      int desired = workloads.get(key).desiredReplicas();
      if (found.unsettled || found.bound.size() != desired) {
        return;
      }
      move(key, found, desired, movable).ifPresent(out::add);
    });
    return out;
  }

  private static Optional<Move> move(WorkloadKey key, Found found, int desired, Predicate<Pod> movable) {
    int[] counts = new int[3];
    for (NodeFacts n : found.nodes.values()) {
      counts[n.capacityType().get().isSpot() ? 0 : n.fallback() ? 2 : 1]++;
    }
    ReplicaCounts running = new ReplicaCounts(counts[0], counts[1], counts[2]);
    Targets targets = Distribution.targetsFor(found.rule.rule(), desired);
    Comparator<Pod> newestFirst = Comparator.comparing((Pod p) -> String.valueOf(p.getMetadata().getCreationTimestamp())).reversed()
        .thenComparing(p -> p.getMetadata().getName());
    // StatefulSet replicas go by ordinal (the lowest on on-demand): a replica moves only if its ordinal says
    // the other type, else its successor would come back where it was.
    Predicate<Pod> mayMove = p -> movable.test(p) && PodFacts.of(p).statefulSetOrdinal().stream()
        .allMatch(ordinal -> (ordinal < targets.onDemand()) == found.nodes.get(p.getMetadata().getUid()).holdsSpotPlaces());
    if (running.spotPlaces() > targets.spot()) {
      // Off a spot place: fallback capacity first, then spot.
      Comparator<Pod> order = Comparator.comparing((Pod p) -> !found.nodes.get(p.getMetadata().getUid()).fallback()).thenComparing(newestFirst);
      return found.bound.stream().filter(p -> found.nodes.get(p.getMetadata().getUid()).holdsSpotPlaces()).filter(mayMove).min(order)
          .map(p -> new Move(p, p.getSpec().getNodeName(), key, found.rule.name(), targets, running, CapacityType.ON_DEMAND));
    }
    if (running.onDemand() > targets.onDemand()) {
      return found.bound.stream().filter(p -> !found.nodes.get(p.getMetadata().getUid()).holdsSpotPlaces()).filter(mayMove).min(newestFirst)
          .map(p -> new Move(p, p.getSpec().getNodeName(), key, found.rule.name(), targets, running, CapacityType.SPOT));
    }
    return Optional.empty();
  }

  private static boolean ready(Pod pod) {
    return pod.getStatus() != null && pod.getStatus().getConditions() != null
        && pod.getStatus().getConditions().stream().anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }
}
