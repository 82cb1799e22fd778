package dev.dovetail.provisioner.metrics;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.Resources;
import dev.dovetail.provisioner.cloud.sim.SimCloudProvider;
import dev.dovetail.provisioner.cluster.Caches;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cluster-wide gauges, rebuilt from the caches every 15 seconds: Karpenter's
 * {@code karpenter_pods_state} (one series per pod, with its node's pool, zone and capacity type) and
 * {@code karpenter_cluster_state_node_count} and {@code karpenter_cluster_utilization_percent} (bound pods' requests over
 * the nodes' allocatable), and the hourly cost of the capacity Dovetail launched.
 */
public final class ClusterMetrics {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterMetrics.class);
  private final Caches caches;
  private final MeterRegistry registry;
  private final MultiGauge podsState;
  private final AtomicReference<double[]> totals = new AtomicReference<>(new double[3]);
  /** Pod requests of bound pods as a share of the nodes' allocatable, percent: CPU, memory. */
  private final AtomicReference<double[]> utilization = new AtomicReference<>(new double[2]);

  public ClusterMetrics(Caches caches, MeterRegistry registry) {
    this.caches = caches;
    this.registry = registry;
    this.podsState = MultiGauge.builder("karpenter.pods.state").description("Pod state, one series per pod; the labels say where it runs.")
        .register(registry);
    Gauge.builder("karpenter.cluster.state.node.count", totals, t -> t.get()[0]).description("Current count of nodes in cluster state")
        .register(registry);
    Gauge.builder("karpenter.cluster.utilization.percent", utilization, u -> u.get()[0]).tag("resource_type", "cpu")
        .description("Utilization of allocatable resources by pod requests").register(registry);
    Gauge.builder("karpenter.cluster.utilization.percent", utilization, u -> u.get()[1]).tag("resource_type", "memory")
        .description("Utilization of allocatable resources by pod requests").register(registry);
    Gauge.builder("dovetail.nodes.cost.per.hour", totals, t -> t.get()[1])
        .description("Hourly price of the nodes Dovetail launched (catalog prices)").register(registry);
    Gauge.builder("dovetail.nodes.on.demand.equivalent.cost.per.hour", totals, t -> t.get()[2])
        .description("What the same nodes would cost per hour all on on-demand").register(registry);
  }

  public void start(ScheduledExecutorService timer) {
    timer.scheduleWithFixedDelay(this::refresh, 5, 15, TimeUnit.SECONDS);
  }

  void refresh() {
    try {
      if (!caches.synced()) {
        return;
      }
      Map<String, Map<String, String>> nodeLabels = new HashMap<>();
      double cost = 0;
      double onDemand = 0;
      List<Node> nodes = caches.nodes();
      for (Node n : nodes) {
        Map<String, String> labels = n.getMetadata().getLabels() == null ? Map.of() : n.getMetadata().getLabels();
        nodeLabels.put(n.getMetadata().getName(), labels);
        OptionalDouble recorded = SimCloudProvider.recordedPrice(n);
        if (recorded.isPresent()) {
          cost += recorded.getAsDouble();
          onDemand += caches.view().node(n.getMetadata().getName()).map(f -> onDemandPrice(f.instanceType())).orElse(0.0);
        }
      }
      totals.set(new double[] {nodes.size(), cost, onDemand});
      List<MultiGauge.Row<?>> rows = new ArrayList<>();
      double[] requested = new double[2];
      for (Pod p : caches.pods()) {
        String node = p.getSpec() == null || p.getSpec().getNodeName() == null ? "" : p.getSpec().getNodeName();
        Map<String, String> labels = nodeLabels.getOrDefault(node, Map.of());
        String phase = p.getStatus() == null || p.getStatus().getPhase() == null ? "" : p.getStatus().getPhase();
        String pool = labels.getOrDefault(WellKnownLabels.NODEPOOL, "");
        rows.add(MultiGauge.Row.of(Tags.of(
            "name", p.getMetadata().getName(), "namespace", p.getMetadata().getNamespace(), "owner", owner(p), "node", node,
            "scheduled", String.valueOf(!node.isEmpty()), "nodepool", pool,
            "zone", labels.getOrDefault(WellKnownLabels.ZONE, ""), "arch", labels.getOrDefault(WellKnownLabels.ARCH, ""),
            "capacity_type", labels.getOrDefault(WellKnownLabels.CAPACITY_TYPE, ""),
            "instance_type", labels.getOrDefault(WellKnownLabels.INSTANCE_TYPE, ""), "phase", phase).and(
            "ready", String.valueOf(ready(p)), "managed", String.valueOf(!pool.isEmpty())), 1));
        if (!node.isEmpty() && !phase.equals("Succeeded") && !phase.equals("Failed")) {
          Resources r = Resources.requestsOf(p);
          requested[0] += r.cpuMillis() / 1000.0;
          requested[1] += r.memoryBytes();
        }
      }
      double[] allocatable = new double[2];
      for (Node n : nodes) {
        Map<String, Quantity> a = n.getStatus() == null || n.getStatus().getAllocatable() == null ? Map.of() : n.getStatus().getAllocatable();
        Resources r = Resources.of(a);
        allocatable[0] += r.cpuMillis() / 1000.0;
        allocatable[1] += r.memoryBytes();
      }
      utilization.set(new double[] {allocatable[0] == 0 ? 0 : 100 * requested[0] / allocatable[0],
          allocatable[1] == 0 ? 0 : 100 * requested[1] / allocatable[1]});
      podsState.register(rows, true);
    } catch (RuntimeException e) {
      LOG.warn("refreshing cluster metrics failed: {}", e.toString());
    }
  }

  /** The pod's first owner as Karpenter names it: {@code /apis/<apiVersion>/namespaces/<ns>/<kind>s/<name>} (so {@code /apis/v1/...} for core kinds). */
  static String owner(Pod p) {
    List<OwnerReference> refs = p.getMetadata().getOwnerReferences();
    if (refs == null || refs.isEmpty()) {
      return "";
    }
    OwnerReference r = refs.get(0);
    return "/apis/" + r.getApiVersion() + "/namespaces/" + p.getMetadata().getNamespace() + "/" + r.getKind().toLowerCase(Locale.ROOT) + "s/"
        + r.getName();
  }

  private static boolean ready(Pod p) {
    return p.getStatus() != null && p.getStatus().getConditions() != null
        && p.getStatus().getConditions().stream().anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  private double onDemandPrice(String instanceType) {
    return caches.view().catalog().get(instanceType).map(t -> t.pricePerHour(CapacityType.ON_DEMAND)).orElse(0.0);
  }
}
