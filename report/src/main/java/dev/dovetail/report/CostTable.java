package dev.dovetail.report;

import dev.dovetail.runtime.PrometheusText;
import dev.dovetail.runtime.PrometheusText.Sample;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What each workload costs and saves, read from the provisioner's per-workload cost gauges ({@code dovetail_workload_*},
 * {@code dovetail_nodepool_*}), with the idle capacity of each NodePool; rendered as a table.
 *
 * @param workloads costliest first
 * @param pools by name
 */
record CostTable(List<Workload> workloads, List<Pool> pools) {
  static final String COST = "dovetail_workload_cost_per_hour";
  static final String ON_DEMAND = "dovetail_workload_on_demand_equivalent_cost_per_hour";
  static final String REPLICAS = "dovetail_workload_replicas";
  static final String TARGET = "dovetail_workload_target_spot_share_ratio";
  static final String POOL_COST = "dovetail_nodepool_cost_per_hour";
  static final String POOL_IDLE = "dovetail_nodepool_idle_cost_per_hour";

  /**
   * One workload on every capacity type.
   *
   * @param rule the distribution rule that governs it and the spot share it asks for, when one does
   */
  record Workload(String namespace, String kind, String name, int spot, int onDemand, double cost, double onDemandCost,
      Optional<Target> rule) {
    double savings() {
      return onDemandCost - cost;
    }

    double spotShare() {
      return spot + onDemand == 0 ? 0 : (double) spot / (spot + onDemand);
    }

    String label() {
      return namespace + "/" + name;
    }
  }

  /** A rule's spot share for a workload. */
  record Target(String rule, double spotShare) {
  }

  /** A NodePool's nodes ({@code ""}: nodes of no pool). */
  record Pool(String name, double cost, double idle) {
  }

  static CostTable of(List<Sample> samples) {
    Map<List<String>, double[]> figures = new LinkedHashMap<>();
    for (Sample s : samples) {
      int column = switch (s.name()) {
        case COST -> 0;
        case ON_DEMAND -> 1;
        case REPLICAS -> "spot".equals(s.label("capacity_type")) ? 2 : 3;
        default -> -1;
      };
      if (column >= 0) {
        figures.computeIfAbsent(key(s), k -> new double[4])[column] += s.value();
      }
    }
    Map<List<String>, Target> targets = new LinkedHashMap<>();
    PrometheusText.select(samples, TARGET, Map.of()).forEach(s -> targets.put(key(s), new Target(s.label("rule"), s.value())));
    List<Workload> workloads = new ArrayList<>();
    figures.forEach((k, f) -> workloads.add(new Workload(k.get(0), k.get(1), k.get(2), (int) f[2], (int) f[3], f[0], f[1],
        Optional.ofNullable(targets.get(k)))));
    workloads.sort(Comparator.comparingDouble(Workload::cost).reversed().thenComparing(Workload::label));
    Map<String, double[]> pools = new TreeMap<>();
    for (Sample s : samples) {
      if (s.name().equals(POOL_COST) || s.name().equals(POOL_IDLE)) {
        pools.computeIfAbsent(s.label("nodepool"), k -> new double[2])[s.name().equals(POOL_COST) ? 0 : 1] += s.value();
      }
    }
    List<Pool> poolRows = new ArrayList<>();
    pools.forEach((name, f) -> poolRows.add(new Pool(name, f[0], f[1])));
    return new CostTable(List.copyOf(workloads), List.copyOf(poolRows));
  }

  private static List<String> key(Sample s) {
    return List.of(s.label("namespace"), s.label("kind"), s.label("workload"));
  }

  double workloadCost() {
    return workloads.stream().mapToDouble(Workload::cost).sum();
  }

  double workloadOnDemandCost() {
    return workloads.stream().mapToDouble(Workload::onDemandCost).sum();
  }

  double nodesCost() {
    return pools.stream().mapToDouble(Pool::cost).sum();
  }

  double idle() {
    return pools.stream().mapToDouble(Pool::idle).sum();
  }

  /** The table as text: a row per workload, the idle capacity, the total, and a line per NodePool. */
  String render() {
    StringBuilder out = new StringBuilder();
    String header = "%-40s %-11s %8s %8s %-26s %10s %12s %10s %6s%n";
    String row = "%-40s %-11s %8d %8d %-26s %10.4f %12.4f %10.4f %5.0f%%%n";
    out.append(String.format(Locale.ROOT, header, "workload", "kind", "spot", "on-dem.", "spot share (rule's)", "$/h", "on-dem. $/h",
        "saved $/h", "saved"));
    for (Workload w : workloads) {
      String share = String.format(Locale.ROOT, "%3.0f %%", 100 * w.spotShare())
          + w.rule().map(t -> String.format(Locale.ROOT, " (%3.0f %% %s)", 100 * t.spotShare(), t.rule())).orElse(" (no rule)");
      out.append(String.format(Locale.ROOT, row, w.label(), w.kind(), w.spot(), w.onDemand(), share, w.cost(), w.onDemandCost(), w.savings(),
          w.onDemandCost() > 0 ? 100 * w.savings() / w.onDemandCost() : 0));
    }
    double onDemand = workloadOnDemandCost();
    out.append(String.format(Locale.ROOT, "%-40s %-11s %8d %8d %-26s %10.4f %12.4f %10.4f %5.0f%%%n", "all workloads", "",
        workloads.stream().mapToInt(Workload::spot).sum(), workloads.stream().mapToInt(Workload::onDemand).sum(), "",
        workloadCost(), onDemand, onDemand - workloadCost(), onDemand > 0 ? 100 * (onDemand - workloadCost()) / onDemand : 0));
    out.append(String.format(Locale.ROOT, "%-40s %-11s %8s %8s %-26s %10.4f%n", "idle (requested by no pod)", "", "", "", "", idle()));
    out.append(String.format(Locale.ROOT, "%nNodes $%.4f/h: workloads $%.4f/h, idle $%.4f/h (%.0f %%)%n", nodesCost(), workloadCost(), idle(),
        nodesCost() > 0 ? 100 * idle() / nodesCost() : 0));
    for (Pool p : pools) {
      out.append(String.format(Locale.ROOT, "  NodePool %-24s $%.4f/h, idle $%.4f/h%n", p.name().isEmpty() ? "(none)" : p.name(), p.cost(), p.idle()));
    }
    return out.toString();
  }
}
