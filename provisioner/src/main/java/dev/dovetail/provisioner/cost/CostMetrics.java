package dev.dovetail.provisioner.cost;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.distribution.Distribution;
import dev.dovetail.api.distribution.PodFacts;
import dev.dovetail.api.distribution.RuleSet;
import dev.dovetail.api.distribution.Targets;
import dev.dovetail.api.scheduling.Resources;
import dev.dovetail.provisioner.cloud.sim.SimCloudProvider;
import dev.dovetail.provisioner.cluster.Caches;
import dev.dovetail.provisioner.cost.CostAllocation.Allocation;
import dev.dovetail.provisioner.cost.CostAllocation.PodRequest;
import dev.dovetail.provisioner.cost.CostAllocation.PricedNode;
import dev.dovetail.state.InformerClusterView;
import dev.dovetail.state.NodeFacts;
import dev.dovetail.state.Workload;
import dev.dovetail.state.WorkloadKey;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-workload cost (F13) as Prometheus gauges, rebuilt from the caches every 15 seconds by
 * {@link CostAllocation}: what each workload's replicas cost per hour on each capacity type, the same on on-demand
 * and the saving, its spot share next to the share its distribution rule asks for, and the idle cost of each node
 * and NodePool. A node's price is the one its launch recorded (the simulated cloud's annotation) or else the
 * catalog's for its instance type, capacity type and zone; nodes with neither are left out and their pods counted
 * in {@code dovetail_cost_unpriced_pods}.
 */
public final class CostMetrics {
  private static final Logger LOG = LoggerFactory.getLogger(CostMetrics.class);
  private final Caches caches;
  private final Set<String> exemptNamespaces;
  private final MultiGauge workloadCost;
  private final MultiGauge workloadOnDemand;
  private final MultiGauge workloadSavings;
  private final MultiGauge workloadReplicas;
  private final MultiGauge spotShare;
  private final MultiGauge targetSpotShare;
  private final MultiGauge nodeIdle;
  private final MultiGauge poolCost;
  private final MultiGauge karpenterPoolCost;
  private final MultiGauge poolIdle;
  private final AtomicInteger unpriced = new AtomicInteger();

  public CostMetrics(Caches caches, MeterRegistry registry, Set<String> exemptNamespaces) {
    this.caches = caches;
    this.exemptNamespaces = Set.copyOf(exemptNamespaces);
    this.workloadCost = gauge(registry, "dovetail.workload.cost.per.hour",
        "Hourly cost of a workload's running replicas on one capacity type: each node's price split over its pods by requested CPU and memory");
    this.workloadOnDemand = gauge(registry, "dovetail.workload.on.demand.equivalent.cost.per.hour",
        "What the same replicas would cost per hour with their nodes priced on-demand");
    this.workloadSavings = gauge(registry, "dovetail.workload.savings.per.hour",
        "On-demand equivalent minus actual hourly cost of a workload's replicas on one capacity type");
    this.workloadReplicas = gauge(registry, "dovetail.workload.replicas", "A workload's replicas bound to priced nodes, by capacity type");
    this.spotShare = gauge(registry, "dovetail.workload.spot.share.ratio", "Share of a workload's bound replicas running on spot capacity");
    this.targetSpotShare = gauge(registry, "dovetail.workload.target.spot.share.ratio",
        "Share of a workload's desired replicas its distribution rule puts on spot (governed workloads only)");
    this.nodeIdle = gauge(registry, "dovetail.node.idle.cost.per.hour", "Part of a node's hourly price no pod requested");
    this.poolCost = gauge(registry, "dovetail.nodepool.cost.per.hour", "Hourly price of a NodePool's priced nodes (\"\" for nodes of no pool)");
    // Karpenter's karpenter_nodepools_cost_total for the same figure, its NodePools only (a gauge may not end in _total
    // in the Prometheus client: registered without it, renamed in the scrape by KarpenterMetrics.RENAMES).
    this.karpenterPoolCost = gauge(registry, "karpenter.nodepools.cost", "The hourly cost of the nodes of a NodePool");
    this.poolIdle = gauge(registry, "dovetail.nodepool.idle.cost.per.hour", "Part of a NodePool's hourly price no pod requested");
    Gauge.builder("dovetail.cost.unpriced.pods", unpriced, AtomicInteger::get)
        .description("Bound pods left out of the cost figures because their node's price is unknown").register(registry);
  }

  private static MultiGauge gauge(MeterRegistry registry, String name, String help) {
    return MultiGauge.builder(name).description(help).register(registry);
  }

  public void start(ScheduledExecutorService timer) {
    timer.scheduleWithFixedDelay(this::refresh, 5, 15, TimeUnit.SECONDS);
  }

  void refresh() {
    try {
      if (caches.synced()) {
        publish();
      }
    } catch (RuntimeException e) {
      LOG.warn("refreshing cost metrics failed: {}", e.toString());
    }
  }

  private void publish() {
    InformerClusterView view = caches.view();
    List<PricedNode> nodes = new ArrayList<>();
    for (Node n : caches.nodes()) {
      priced(n, view).ifPresent(nodes::add);
    }
    List<PodRequest> pods = new ArrayList<>();
    // Each workload with one of its pods, whose facts say whether a rule governs it.
    Map<WorkloadKey, Map.Entry<Workload, PodFacts>> workloads = new LinkedHashMap<>();
    for (Pod p : caches.pods()) {
      String phase = p.getStatus() == null ? null : p.getStatus().getPhase();
      if (p.getSpec() == null || p.getSpec().getNodeName() == null || "Succeeded".equals(phase) || "Failed".equals(phase)) {
        continue;
      }
      PodFacts facts = PodFacts.of(p);
      Workload workload = view.workloadOf(facts);
      workloads.putIfAbsent(workload.key(), Map.entry(workload, facts));
      pods.add(new PodRequest(workload.key(), p.getSpec().getNodeName(), Resources.requestsOf(p)));
    }
    Allocation allocation = CostAllocation.allocate(nodes, pods);

    List<MultiGauge.Row<?>> cost = new ArrayList<>();
    List<MultiGauge.Row<?>> onDemand = new ArrayList<>();
    List<MultiGauge.Row<?>> savings = new ArrayList<>();
    List<MultiGauge.Row<?>> replicas = new ArrayList<>();
    Map<WorkloadKey, int[]> spotAndAll = new LinkedHashMap<>();
    for (CostAllocation.WorkloadCost w : allocation.workloads()) {
      Tags tags = workloadTags(w.workload()).and("capacity_type", w.capacityType());
      cost.add(MultiGauge.Row.of(tags, w.cost()));
      onDemand.add(MultiGauge.Row.of(tags, w.onDemandCost()));
      savings.add(MultiGauge.Row.of(tags, w.savings()));
      replicas.add(MultiGauge.Row.of(tags, w.replicas()));
      int[] counts = spotAndAll.computeIfAbsent(w.workload(), k -> new int[2]);
      counts[0] += CapacityType.SPOT.label().equals(w.capacityType()) ? w.replicas() : 0;
      counts[1] += w.replicas();
    }
    List<MultiGauge.Row<?>> shares = new ArrayList<>();
    spotAndAll.forEach((k, counts) -> shares.add(MultiGauge.Row.of(workloadTags(k), (double) counts[0] / counts[1])));
    List<MultiGauge.Row<?>> targets = new ArrayList<>();
    RuleSet rules = view.rules();
    workloads.forEach((k, workload) -> {
      Optional<RuleSet.Entry> rule = rules.forNamespace(k.namespace());
      if (rule.isPresent() && workload.getValue().exemption(exemptNamespaces).isEmpty()) {
        Targets t = Distribution.targetsFor(rule.get().rule(), workload.getKey().desiredReplicas());
        if (t.total() > 0) {
          targets.add(MultiGauge.Row.of(workloadTags(k).and("rule", rule.get().name()), (double) t.spot() / t.total()));
        }
      }
    });
    List<MultiGauge.Row<?>> idle = new ArrayList<>();
    for (CostAllocation.NodeCost n : allocation.nodes()) {
      idle.add(MultiGauge.Row.of(Tags.of("node", n.node().name(), "nodepool", n.node().nodePool(), "capacity_type", n.node().capacityType()),
          n.idle()));
    }
    List<MultiGauge.Row<?>> pools = new ArrayList<>();
    List<MultiGauge.Row<?>> poolsIdle = new ArrayList<>();
    List<MultiGauge.Row<?>> karpenterPools = new ArrayList<>();
    for (CostAllocation.PoolCost p : allocation.pools()) {
      pools.add(MultiGauge.Row.of(Tags.of("nodepool", p.nodePool()), p.cost()));
      if (!p.nodePool().isEmpty()) {
        karpenterPools.add(MultiGauge.Row.of(Tags.of("nodepool", p.nodePool()), p.cost()));
      }
      poolsIdle.add(MultiGauge.Row.of(Tags.of("nodepool", p.nodePool()), p.idle()));
    }
    workloadCost.register(cost, true);
    workloadOnDemand.register(onDemand, true);
    workloadSavings.register(savings, true);
    workloadReplicas.register(replicas, true);
    spotShare.register(shares, true);
    targetSpotShare.register(targets, true);
    nodeIdle.register(idle, true);
    poolCost.register(pools, true);
    karpenterPoolCost.register(karpenterPools, true);
    poolIdle.register(poolsIdle, true);
    unpriced.set(allocation.unpriced());
  }

  private static Tags workloadTags(WorkloadKey key) {
    return Tags.of("namespace", key.namespace(), "kind", key.kind(), "workload", key.name());
  }

  /** The node with its price: the launch's recorded price, else the catalog's; empty when neither is known. */
  private static Optional<PricedNode> priced(Node node, InformerClusterView view) {
    Optional<NodeFacts> facts = view.node(node.getMetadata().getName());
    if (facts.isEmpty() || facts.get().capacityType().isEmpty()) {
      return Optional.empty();
    }
    NodeFacts f = facts.get();
    double price = SimCloudProvider.recordedPrice(node).orElse(f.pricePerHour());
    if (Double.isNaN(price)) {
      return Optional.empty();
    }
    double onDemand = view.catalog().get(f.instanceType()).map(t -> t.pricePerHour(CapacityType.ON_DEMAND)).filter(p -> !Double.isNaN(p))
        .orElse(price);
    return Optional.of(new PricedNode(f.name(), f.nodePool(), f.capacityType().get().label(), price, onDemand, f.allocatable()));
  }
}
