package dev.dovetail.provisioner.cost;

import dev.dovetail.api.scheduling.Resources;
import dev.dovetail.state.WorkloadKey;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Splits what each node costs per hour over the pods it runs, by their requests, as Kubecost's request-based
 * allocation does; what no pod requested is the node's idle cost. Pure: no clock, no I/O.
 *
 * <p>The formula. A node's hourly price {@code P} is split into a CPU part and a memory part in the proportion of
 * Kubecost's default list prices for a vCPU-hour ({@link #CPU_PRICE}) and a GiB-hour ({@link #MEMORY_PRICE}):
 * {@code P_cpu = P × c·CPU_PRICE / (c·CPU_PRICE + m·MEMORY_PRICE)} and {@code P_mem = P − P_cpu}, where {@code c} and
 * {@code m} are the node's allocatable vCPUs and GiB. A pod requesting {@code r_c} vCPUs and {@code r_m} GiB costs
 * {@code r_c × P_cpu / c + r_m × P_mem / m}. The node's idle cost is {@code P} minus what its pods cost, so the pods
 * of every priced node plus the idle add up to the nodes' price. (If the pods on a node request more than it can
 * allocate, which the scheduler does not allow, the rate is taken over what they request, so idle never goes
 * below zero.) The same split of the node's on-demand price gives each pod's on-demand equivalent; the
 * difference is its saving. Kubecost takes the larger of request and usage; Dovetail has no usage figures and
 * takes requests alone. (The feature list's "price × the larger of the CPU and memory shares" would charge a
 * node's pods more than the node costs when their CPU:memory ratios differ, so it is not used.)
 */
public final class CostAllocation {
  /** Kubecost's default price of a vCPU-hour, used only for the CPU:memory proportion. */
  public static final double CPU_PRICE = 0.031611;
  /** Kubecost's default price of a GiB-hour of memory, used only for the CPU:memory proportion. */
  public static final double MEMORY_PRICE = 0.004237;
  private static final double GIB = 1024.0 * 1024 * 1024;

  private CostAllocation() {
  }

  /**
   * A node with a known price.
   *
   * @param capacityType its {@code karpenter.sh/capacity-type} value ({@code spot}, {@code on-demand}, {@code reserved})
   * @param onDemandPricePerHour what the same instance type costs on-demand
   */
  public record PricedNode(String name, String nodePool, String capacityType, double pricePerHour, double onDemandPricePerHour,
      Resources allocatable) {
  }

  /** A pod bound to a node: its workload and its requests. */
  public record PodRequest(WorkloadKey workload, String node, Resources requests) {
  }

  /** What a workload's replicas on one capacity type cost per hour, and the same on on-demand. */
  public record WorkloadCost(WorkloadKey workload, String capacityType, int replicas, double cost, double onDemandCost) {
    public double savings() {
      return onDemandCost - cost;
    }
  }

  /** What a node costs, split into what its pods requested and what is idle. */
  public record NodeCost(PricedNode node, double allocated, double idle, double onDemandIdle) {
    public double price() {
      return allocated + idle;
    }
  }

  /** A NodePool's nodes together (nodes without a pool under {@code ""}). */
  public record PoolCost(String nodePool, int nodes, double cost, double idle, double onDemandCost) {
  }

  /**
   * The allocation of every priced node.
   *
   * @param workloads by workload and capacity type, in namespace, kind, name and capacity-type order
   * @param nodes in name order
   * @param unpriced pods bound to a node with no known price, left out of every figure
   */
  public record Allocation(List<WorkloadCost> workloads, List<NodeCost> nodes, int unpriced) {
    public double total() {
      return nodes.stream().mapToDouble(NodeCost::price).sum();
    }

    public double idle() {
      return nodes.stream().mapToDouble(NodeCost::idle).sum();
    }

    public List<PoolCost> pools() {
      Map<String, PoolCost> pools = new TreeMap<>();
      for (NodeCost n : nodes) {
        pools.merge(n.node().nodePool(), new PoolCost(n.node().nodePool(), 1, n.price(), n.idle(), n.node().onDemandPricePerHour()),
            (a, b) -> new PoolCost(a.nodePool(), a.nodes() + b.nodes(), a.cost() + b.cost(), a.idle() + b.idle(),
                a.onDemandCost() + b.onDemandCost()));
      }
      return List.copyOf(pools.values());
    }
  }

  private record Key(WorkloadKey workload, String capacityType) {
  }

  /** Rates of one node: dollars per vCPU-hour and per GiB-hour, at its price and at its on-demand price. */
  private record Rates(double cpu, double memory, double onDemandCpu, double onDemandMemory) {
    double cost(Resources requests) {
      return cpus(requests) * cpu + gib(requests) * memory;
    }

    double onDemand(Resources requests) {
      return cpus(requests) * onDemandCpu + gib(requests) * onDemandMemory;
    }
  }

  public static Allocation allocate(Collection<PricedNode> nodes, Collection<PodRequest> pods) {
    Map<String, PricedNode> byName = new HashMap<>();
    nodes.forEach(n -> byName.put(n.name(), n));
    Map<String, Resources> requested = new HashMap<>();
    for (PodRequest p : pods) {
      if (byName.containsKey(p.node())) {
        requested.merge(p.node(), p.requests(), Resources::plus);
      }
    }
    Map<String, Rates> rates = new HashMap<>();
    for (PricedNode n : byName.values()) {
      rates.put(n.name(), rates(n, requested.getOrDefault(n.name(), Resources.NONE)));
    }
    Map<Key, WorkloadCost> workloads = new LinkedHashMap<>();
    Map<String, double[]> allocated = new HashMap<>();
    int unpriced = 0;
    for (PodRequest p : pods) {
      PricedNode node = byName.get(p.node());
      if (node == null) {
        unpriced++;
        continue;
      }
      Rates r = rates.get(node.name());
      double cost = r.cost(p.requests());
      double onDemand = r.onDemand(p.requests());
      workloads.merge(new Key(p.workload(), node.capacityType()), new WorkloadCost(p.workload(), node.capacityType(), 1, cost, onDemand),
          (a, b) -> new WorkloadCost(a.workload(), a.capacityType(), a.replicas() + 1, a.cost() + b.cost(), a.onDemandCost() + b.onDemandCost()));
      double[] sum = allocated.computeIfAbsent(node.name(), k -> new double[2]);
      sum[0] += cost;
      sum[1] += onDemand;
    }
    List<NodeCost> nodeCosts = new ArrayList<>();
    for (PricedNode n : byName.values()) {
      double[] sum = allocated.getOrDefault(n.name(), new double[2]);
      nodeCosts.add(new NodeCost(n, sum[0], Math.max(0, n.pricePerHour() - sum[0]), Math.max(0, n.onDemandPricePerHour() - sum[1])));
    }
    nodeCosts.sort(Comparator.comparing(c -> c.node().name()));
    List<WorkloadCost> sorted = new ArrayList<>(workloads.values());
    sorted.sort(Comparator.comparing((WorkloadCost w) -> w.workload().namespace()).thenComparing(w -> w.workload().kind())
        .thenComparing(w -> w.workload().name()).thenComparing(WorkloadCost::capacityType));
    return new Allocation(List.copyOf(sorted), List.copyOf(nodeCosts), unpriced);
  }

  private static Rates rates(PricedNode node, Resources requested) {
    double cpus = Math.max(cpus(node.allocatable()), cpus(requested));
    double gib = Math.max(gib(node.allocatable()), gib(requested));
    double weight = cpus * CPU_PRICE + gib * MEMORY_PRICE;
    if (weight <= 0) {
      return new Rates(0, 0, 0, 0);
    }
    double cpuShare = cpus * CPU_PRICE / weight;
    return new Rates(perUnit(node.pricePerHour() * cpuShare, cpus), perUnit(node.pricePerHour() * (1 - cpuShare), gib),
        perUnit(node.onDemandPricePerHour() * cpuShare, cpus), perUnit(node.onDemandPricePerHour() * (1 - cpuShare), gib));
  }

  private static double perUnit(double part, double units) {
    return units > 0 ? part / units : 0;
  }

  private static double cpus(Resources r) {
    return r.cpuMillis() / 1000.0;
  }

  private static double gib(Resources r) {
    return r.memoryBytes() / GIB;
  }
}
