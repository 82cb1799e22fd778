package dev.dovetail.provisioner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.withinPercentage;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.harness.v1.WorkloadDistributionRule;
import dev.dovetail.api.karpenter.v1.Disruption;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.cloud.sim.SimCloudProvider;
import dev.dovetail.runtime.PrometheusText;
import dev.dovetail.testkit.ControlPlane;
import dev.dovetail.testkit.MetadataMock;
import dev.dovetail.testkit.Ports;
import dev.dovetail.testkit.PrometheusServer;
import dev.dovetail.testkit.RepoPaths;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithCluster;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The three components as deployed (their shaded jars with the manifests' JVM flags) scraped by a real Prometheus
 * through a demo-like run on the real control plane: a scale-out under a 50/50 rule, a spot interruption told to the
 * node's interrupt listener by the EC2 metadata mock, and a scale-down that consolidation folds. Then every panel
 * query of the Grafana dashboard ({@code manifests/monitoring/dovetail-dashboard.json}) must return data over the
 * run, as Grafana would ask it; the workloads' costs plus idle must add up to the nodes' price (read from the nodes
 * themselves); and {@code promtool check metrics} must find nothing in any component's exposition but the
 * documented exceptions.
 */
@WithCluster(schedulerConfig = "manifests/scheduler/local-extender.yaml")
class ObservabilityE2EIT {
  private static final Path DASHBOARD = RepoPaths.manifests().resolve("monitoring/dovetail-dashboard.json");
  /**
   * What {@code promtool check metrics} may say, each for a reason: Karpenter's own metric names (kept for
   * compatibility) and Micrometer's JVM and system binders.
   */
  static final Set<String> ACCEPTED_LINT = Set.of(
      "karpenter_cluster_state_node_count non-histogram and non-summary metrics should not have \"_count\" suffix",
      "karpenter_scheduler_unschedulable_pods_count non-histogram and non-summary metrics should not have \"_count\" suffix",
      "karpenter_nodepools_cost_total non-counter metrics should not have \"_total\" suffix",
      "system_cpu_count non-histogram and non-summary metrics should not have \"_count\" suffix",
      "process_cpu_time_ns_total metric names should not contain abbreviated units");
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  /**
   * Karpenter v1.14's metrics that this run exercises, each with Karpenter's label names (histograms as
   * {@code <name>_bucket}, {@code _count} and {@code _sum}): every one must be in the components' exposition after it, with
   * exactly these labels. Karpenter's that only an event this run does not cause writes (launch failures, failed
   * validations, unhealthy nodes, cloud errors, the provisioner's own evictions: here the listener drains the interrupted
   * node and consolidation removes emptied nodes) are held by {@code KarpenterMetricsTest}.
   */
  static final Map<String, Set<String>> KARPENTER_METRICS = Map.ofEntries(
      Map.entry("karpenter_build_info", Set.of("version", "goversion", "goarch", "commit")),
      Map.entry("karpenter_nodeclaims_created_total", Set.of("reason", "nodepool", "min_values_relaxed")),
      Map.entry("karpenter_nodeclaims_terminated_total", Set.of("nodepool", "capacity_type", "zone")),
      Map.entry("karpenter_nodeclaims_disrupted_total", Set.of("reason", "nodepool", "capacity_type")),
      Map.entry("karpenter_nodeclaims_termination_duration_seconds", Set.of("nodepool")),
      Map.entry("karpenter_nodes_created_total", Set.of("nodepool", "zone")),
      Map.entry("karpenter_nodes_terminated_total", Set.of("nodepool", "zone")),
      Map.entry("karpenter_nodes_drained_total", Set.of("nodepool")),
      Map.entry("karpenter_nodes_lifetime_duration_seconds", Set.of("nodepool")),
      Map.entry("karpenter_pods_state", Set.of("name", "namespace", "owner", "node", "scheduled", "nodepool", "zone", "arch", "capacity_type",
          "instance_type", "phase", "ready", "managed")),
      Map.entry("karpenter_nodepools_usage", Set.of("nodepool", "resource_type")),
      Map.entry("karpenter_nodepools_allowed_disruptions", Set.of("nodepool", "reason")),
      Map.entry("karpenter_nodepools_nodes_consuming_budgets", Set.of("nodepool", "reason")),
      Map.entry("karpenter_nodepools_cost_total", Set.of("nodepool")),
      Map.entry("karpenter_voluntary_disruption_decisions_total", Set.of("decision", "reason", "consolidation_type")),
      Map.entry("karpenter_voluntary_disruption_decision_evaluation_duration_seconds", Set.of("reason", "consolidation_type")),
      Map.entry("karpenter_voluntary_disruption_eligible_nodes", Set.of("reason")),
      Map.entry("karpenter_scheduler_scheduling_duration_seconds", Set.of("controller")),
      Map.entry("karpenter_scheduler_queue_depth", Set.of("controller", "scheduling_id")),
      Map.entry("karpenter_scheduler_unschedulable_pods_count", Set.of("controller")),
      Map.entry("karpenter_cluster_state_node_count", Set.of()),
      Map.entry("karpenter_cluster_state_synced", Set.of()),
      Map.entry("karpenter_cluster_state_unsynced_time_seconds", Set.of()),
      Map.entry("karpenter_cluster_utilization_percent", Set.of("resource_type")),
      Map.entry("karpenter_cloudprovider_duration_seconds", Set.of("controller", "method", "provider")),
      Map.entry("karpenter_interruption_received_messages_total", Set.of("message_type")),
      Map.entry("controller_runtime_reconcile_total", Set.of("controller", "result")),
      Map.entry("controller_runtime_reconcile_time_seconds", Set.of("controller")),
      Map.entry("workqueue_depth", Set.of("name", "controller", "priority")));
  /** Of {@link #KARPENTER_METRICS}, Karpenter's histograms: they must have buckets. */
  static final Set<String> KARPENTER_HISTOGRAMS = Set.of("karpenter_nodeclaims_termination_duration_seconds",
      "karpenter_nodes_lifetime_duration_seconds", "karpenter_voluntary_disruption_decision_evaluation_duration_seconds",
      "karpenter_scheduler_scheduling_duration_seconds", "karpenter_cloudprovider_duration_seconds", "controller_runtime_reconcile_time_seconds");

  /** What is wrong with the exposition against {@link #KARPENTER_METRICS}: a name missing, a series with other labels, no buckets. */
  static List<String> karpenterParity(List<PrometheusText.Sample> samples) {
    List<String> problems = new ArrayList<>();
    KARPENTER_METRICS.forEach((name, labels) -> {
      boolean histogram = KARPENTER_HISTOGRAMS.contains(name);
      List<PrometheusText.Sample> series = samples.stream().filter(s -> s.name().equals(histogram ? name + "_count" : name)).toList();
      if (series.isEmpty()) {
        problems.add(name + ": missing");
      }
      series.stream().map(s -> s.labels().keySet()).filter(l -> !l.equals(labels)).distinct()
          .forEach(l -> problems.add(name + ": labels " + new TreeSet<>(l) + ", Karpenter's are " + new TreeSet<>(labels)));
      if (histogram && samples.stream().noneMatch(s -> s.name().equals(name + "_bucket"))) {
        problems.add(name + ": no buckets (a summary, where Karpenter's is a histogram)");
      }
    });
    return problems;
  }

  private static List<PrometheusText.Sample> scrape(int port) throws IOException, InterruptedException {
    return PrometheusText.parse(HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body());
  }

  private static Path jar(String module) {
    return RepoPaths.root().resolve(module).resolve("target/dovetail-" + module + ".jar");
  }

  private static PrometheusServer.Job job(String name, int port) {
    return new PrometheusServer.Job(name, "/metrics", List.of("127.0.0.1:" + port));
  }

  /** An instant query's one value (the sum of its series; 0 when it has none). */
  private static double value(PrometheusServer prometheus, String promql) {
    return prometheus.query(promql).stream().mapToDouble(PrometheusServer.Series::value).sum();
  }

  private static boolean running(List<Pod> pods, int count) {
    return pods.size() == count && pods.stream().allMatch(p -> p.getStatus() != null && "Running".equals(p.getStatus().getPhase())
        && p.getMetadata().getDeletionTimestamp() == null);
  }

  @Test
  void everyDashboardPanelHasDataAfterADemoLikeRunAndTheWorkloadsCostsAddUpToTheNodes(ControlPlane cp, KubernetesClient client, TestNamespace ns)
      throws Exception {
    int listenerMetrics = Ports.free();
    try (DeployedJar extender = DeployedJar.start(client, cp.kubeconfig(), "dovetail-extender", "manifests/extender/deployment.yaml", jar("extender"),
        List.of("--port=" + LocalExtender.PORT));
        DeployedJar provisioner = DeployedJar.start(client, cp.kubeconfig(), "provisioner", "manifests/provisioner/deployment.yaml",
            jar("provisioner"), List.of("--cloud-provider=sim", "--sim-boot-delay=1s", "--sim-config-map=", "--no-leader-elect",
                "--cluster-name=observability", "--disruption-validation-delay=2s", "--batch-idle-duration=300ms"));
        PrometheusServer prometheus = PrometheusServer.start(List.of(job("provisioner", provisioner.metricsPort()),
            job("extender", extender.metricsPort()), job("interrupt-listener", listenerMetrics)))) {
      Instant start = Instant.now();
      // Series the run showed earlier: the listener's (it is stopped before the end) and the provisioner's queue depth.
      List<PrometheusText.Sample> earlierSamples = new ArrayList<>();
      String label = Fixtures.unique("obs");
      client.resources(EC2NodeClass.class).resource(Fixtures.nodeClass(label)).create();
      client.resources(NodePool.class).resource(Fixtures.withDisruption(Fixtures.nodePool(label, label, label, null, null,
          NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_CATEGORY, "c", "m"),
          NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_CPU, "2", "4"),
          NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, "spot", "on-demand")),
          new Disruption("5s", Disruption.ConsolidationPolicy.WhenEmptyOrUnderutilized, null))).create();
      WorkloadDistributionRule rule = Fixtures.rule(label, ns.name(), 50, 0);
      client.resources(WorkloadDistributionRule.class).resource(rule).create();
      client.apps().deployments().resource(Fixtures.deployment(ns.name(), "web", 6, "500m", "512Mi", label)).create();
      client.apps().deployments().resource(Fixtures.deployment(ns.name(), "cart", 2, "1", "1Gi", label)).create();
      // Karpenter's queue depth is a series of the pass under way, gone when nothing waits: read while the pods wait.
      await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
        List<PrometheusText.Sample> now = scrape(provisioner.metricsPort());
        assertThat(now).as("karpenter_scheduler_queue_depth while pods wait").anyMatch(x -> x.name().equals("karpenter_scheduler_queue_depth"));
        earlierSamples.addAll(now.stream().filter(x -> x.name().equals("karpenter_scheduler_queue_depth")).toList());
      });
      await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> assertThat(
          running(client.pods().inNamespace(ns.name()).list().getItems(), 8)).as(() -> ClusterDump.of(client, ns.name())).isTrue());

      // A spot interruption, as IMDS tells the node's interrupt listener: it taints the node and marks the claim, the
      // provisioner launches the replacement, the listener drains the node once the replacement is ready.
      String spotNode = client.nodes().withLabel(Fixtures.TEST_LABEL, label).withLabel(WellKnownLabels.CAPACITY_TYPE, "spot").list().getItems()
          .stream().map(n -> n.getMetadata().getName()).findFirst().orElseThrow();
      try (MetadataMock imds = MetadataMock.start("spot", "--mock-delay-sec", "1", "--action", "terminate", "--mock-ip-count=-1");
          DeployedJar listener = DeployedJar.start(client, cp.kubeconfig(), "interrupt-listener", "manifests/interrupt-listener/daemonset.yaml",
              jar("interrupt-listener"), List.of("--node-name=" + spotNode, "--imds-endpoint=" + imds.endpoint()), listenerMetrics)) {
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
          assertThat(value(prometheus, "sum(karpenter_interruption_received_messages_total)")).as("notices the listener received").isPositive();
          assertThat(client.nodes().withName(spotNode).get()).as("the interrupted node, gone").isNull();
          assertThat(running(client.pods().inNamespace(ns.name()).list().getItems(), 8)).as(() -> ClusterDump.of(client, ns.name())).isTrue();
        });
        assertThat(lint(listenerMetrics)).as("promtool check metrics on " + listener.describe()).isSubsetOf(ACCEPTED_LINT);
        earlierSamples.addAll(scrape(listenerMetrics));
      }

      // web scaled to nothing leaves each node one cart replica: consolidation removes or replaces the nodes.
      client.apps().deployments().inNamespace(ns.name()).withName("web").scale(0);
      await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> assertThat(
          value(prometheus, "sum(karpenter_voluntary_disruption_decisions_total)")).as(() -> "consolidation decisions; "
              + ClusterDump.of(client, ns.name())).isPositive());

      // The workloads' costs plus the pool's idle are what its nodes cost, read from the nodes (their launch price).
      await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
        double nodes = 0;
        for (Node n : client.nodes().withLabel(Fixtures.TEST_LABEL, label).list().getItems()) {
          nodes += Double.parseDouble(n.getMetadata().getAnnotations().get(SimCloudProvider.PRICE_ANNOTATION));
        }
        double workloads = value(prometheus, "sum(dovetail_workload_cost_per_hour{namespace=\"" + ns.name() + "\"})");
        double idle = value(prometheus, "sum(dovetail_nodepool_idle_cost_per_hour{nodepool=\"" + label + "\"})");
        assertThat(nodes).isPositive();
        assertThat(value(prometheus, "sum(dovetail_nodepool_cost_per_hour{nodepool=\"" + label + "\"})")).isCloseTo(nodes, withinPercentage(1));
        assertThat(workloads + idle).as("workloads $%.6f/h + idle $%.6f/h against the nodes' $%.6f/h", workloads, idle, nodes)
            .isCloseTo(nodes, withinPercentage(1));
        assertThat(prometheus.query("sum by (workload) (dovetail_workload_replicas{namespace=\"" + ns.name() + "\"})"))
            .extracting(s -> s.labels().get("workload") + "=" + (int) s.value()).containsExactly("cart=2");
      });

      // Every query of every panel has data over the run, as the dashboard asks it, from targets Prometheus could scrape.
      assertThat(prometheus.targets()).as("scrape targets").containsEntry("provisioner/127.0.0.1:" + provisioner.metricsPort(), "up")
          .containsEntry("extender/127.0.0.1:" + extender.metricsPort(), "up");
      Instant end = Instant.now();
      JsonNode dashboard = new ObjectMapper().readTree(Files.readString(DASHBOARD));
      List<String> empty = new ArrayList<>();
      int queries = 0;
      for (JsonNode panel : dashboard.path("panels")) {
        for (JsonNode target : panel.path("targets")) {
          queries++;
          String expr = target.path("expr").asText();
          List<PrometheusServer.Series> series = prometheus.queryRange(expr, start, end, Duration.ofSeconds(2));
          System.out.printf("[dashboard] %-50s %d series%n", panel.path("title").asText(), series.size());
          if (series.stream().noneMatch(s -> s.value() > 0)) {
            empty.add(panel.path("title").asText() + ": " + expr);
          }
        }
      }
      assertThat(queries).as("panel queries in the dashboard").isGreaterThanOrEqualTo(20);
      assertThat(empty).as("panel queries without data over the run").isEmpty();

      // Help text on every family; only the documented exceptions are flagged.
      for (DeployedJar component : List.of(provisioner, extender)) {
        assertThat(lint(component.metricsPort())).as("promtool check metrics on " + component.describe()).isSubsetOf(ACCEPTED_LINT);
      }

      // Karpenter's metric names with Karpenter's labels, as its dashboards and alerts expect them.
      await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
        List<PrometheusText.Sample> samples = new ArrayList<>(scrape(provisioner.metricsPort()));
        samples.addAll(earlierSamples);
        assertThat(karpenterParity(samples)).as("Karpenter's metrics after the run").isEmpty();
      });
    }
  }

  /** What promtool check metrics says of the exposition on this port, one finding a line. */
  private static Set<String> lint(int port) throws IOException, InterruptedException {
    String exposition = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    Process promtool = new ProcessBuilder(PrometheusServer.promtool().toString(), "check", "metrics").redirectErrorStream(true).start();
    promtool.getOutputStream().write(exposition.getBytes(StandardCharsets.UTF_8));
    promtool.getOutputStream().close();
    String out = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    promtool.waitFor();
    return out.lines().map(String::strip).filter(l -> !l.isEmpty()).collect(Collectors.toSet());
  }
}
