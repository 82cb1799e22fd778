package dev.dovetail.extender.decision;

import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec.Strategy;
import dev.dovetail.api.scheduling.Resources;
import dev.dovetail.state.NodeFacts;
import dev.dovetail.state.WorkloadPlacement;
import java.util.List;
import java.util.function.Function;

/**
 * Ranks the nodes that passed the filter for one replica, 0-10, by the rule's strategy.
 *
 * <p>CostOptimized packs: nodes already running the workload's replicas, fuller nodes and cheaper
 * nodes (per vCPU-hour) score higher, so replicas land on the fewest, cheapest nodes. LeastInterrupted
 * spreads: nodes, zones and instance pools with fewer of the workload's replicas, and instance types
 * in a lower interruption bucket, score higher. Nodes without facts (null) score 0.
 */
final class Scoring {
  /** The highest score the extender protocol allows (kube-scheduler's MaxExtenderPriority). */
  static final int MAX_SCORE = 10;

  private Scoring() {
  }

  static int[] scores(Strategy strategy, List<NodeFacts> nodes, Function<String, Resources> requested, WorkloadPlacement placement) {
    return strategy == Strategy.LeastInterrupted ? spread(nodes, placement) : pack(nodes, requested, placement);
  }

  private static int[] pack(List<NodeFacts> nodes, Function<String, Resources> requested, WorkloadPlacement placement) {
    double[] perCpu = new double[nodes.size()];
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < nodes.size(); i++) {
      NodeFacts n = nodes.get(i);
      if (n == null) {
        perCpu[i] = Double.NaN;
        continue;
      }
      long cpu = n.allocatable().cpuMillis();
      perCpu[i] = Double.isNaN(n.pricePerHour()) || cpu <= 0 ? Double.NaN : n.pricePerHour() / (cpu / 1000.0);
      if (!Double.isNaN(perCpu[i])) {
        min = Math.min(min, perCpu[i]);
        max = Math.max(max, perCpu[i]);
      }
    }
    int[] out = new int[nodes.size()];
    for (int i = 0; i < nodes.size(); i++) {
      NodeFacts n = nodes.get(i);
      if (n == null) {
        continue;
      }
      double here = placement.perNode().getOrDefault(n.name(), 0) > 0 ? 1 : 0;
      double cheap = Double.isNaN(perCpu[i]) ? 0.5 : max > min ? (max - perCpu[i]) / (max - min) : 1;
      double raw = 0.4 * here + 0.35 * utilisation(n, requested.apply(n.name())) + 0.25 * cheap;
      out[i] = toScore(raw);
    }
    return out;
  }

  private static int[] spread(List<NodeFacts> nodes, WorkloadPlacement placement) {
    int maxZone = 0;
    int maxPool = 0;
    for (NodeFacts n : nodes) {
      if (n == null) {
        continue;
      }
      maxZone = Math.max(maxZone, placement.perZone().getOrDefault(n.zone(), 0));
      maxPool = Math.max(maxPool, placement.perPool().getOrDefault(WorkloadPlacement.pool(n), 0));
    }
    int[] out = new int[nodes.size()];
    for (int i = 0; i < nodes.size(); i++) {
      NodeFacts n = nodes.get(i);
      if (n == null) {
        continue;
      }
      double node = 1.0 / (1 + placement.perNode().getOrDefault(n.name(), 0));
      double zone = maxZone == 0 ? 1 : 1 - (double) placement.perZone().getOrDefault(n.zone(), 0) / maxZone;
      double pool = maxPool == 0 ? 1 : 1 - (double) placement.perPool().getOrDefault(WorkloadPlacement.pool(n), 0) / maxPool;
      double calm = 1 - n.interruptionRank() / 5.0;
      out[i] = toScore(0.4 * node + 0.25 * zone + 0.15 * pool + 0.2 * calm);
    }
    return out;
  }

  /** Mean of requested/allocatable over CPU and memory, 0-1. */
  static double utilisation(NodeFacts node, Resources requested) {
    double cpu = ratio(requested.cpuMillis(), node.allocatable().cpuMillis());
    double memory = ratio(requested.memoryBytes(), node.allocatable().memoryBytes());
    return (cpu + memory) / 2;
  }

  private static double ratio(long used, long total) {
    return total <= 0 ? 0 : Math.min(1, Math.max(0, (double) used / total));
  }

  private static int toScore(double raw) {
    return (int) Math.round(Math.max(0, Math.min(1, raw)) * MAX_SCORE);
  }
}
