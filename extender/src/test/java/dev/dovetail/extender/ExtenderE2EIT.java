package dev.dovetail.extender;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.harness.v1.Distribution;
import dev.dovetail.api.harness.v1.WorkloadDistributionRule;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec.Strategy;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.extender.decision.Decisions;
import dev.dovetail.extender.decision.InFlightTable;
import dev.dovetail.state.InformerClusterView;
import dev.dovetail.testkit.ControlPlane;
import dev.dovetail.testkit.KwokCluster;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithCluster;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The real kube-scheduler, configured by manifests/scheduler/local-extender.yaml, calls the extender
 * (in this JVM on 127.0.0.1:8888) while placing Deployments on kwok nodes labelled spot and on-demand.
 */
@WithCluster(schedulerConfig = "manifests/scheduler/local-extender.yaml")
class ExtenderE2EIT {
  private static final String POOL = "dovetail.dev/e2e-pool";
  private static final String[] ZONES = {"us-east-1a", "us-east-1b", "us-east-1c"};
  private static Vertx vertx;
  private static InformerClusterView view;
  private static PrometheusMeterRegistry registry;
  private static Router router;
  private static HttpServer server;

  @BeforeAll
  static void startExtenderAndNodes(KubernetesClient client) throws Exception {
    try (Socket probe = new Socket()) {
      probe.connect(new InetSocketAddress("127.0.0.1", 8888), 200);
      throw new IllegalStateException("port 8888 is in use (a demo extender?); the scheduler config of this test calls 127.0.0.1:8888");
    } catch (IOException free) {
      // nothing listens: good
    }
    for (int i = 0; i < 8; i++) {
      client.nodes().resource(node("e2e-spot-" + i, "spot", ZONES[i % 3])).create();
      client.nodes().resource(node("e2e-od-" + i, "on-demand", ZONES[i % 3])).create();
    }
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    view = new InformerClusterView(Catalog.bundled(), registry).derivedStateOnly().start(client);
    vertx = Vertx.vertx();
    Decisions decisions = new Decisions(view, new InFlightTable(), Set.of("kube-system"), Catalog.bundled());
    router = new ExtenderServer(decisions, registry, 16 << 20).mount(vertx, Router.router(vertx));
    listen();
    await().atMost(Duration.ofSeconds(60)).until(() -> view.synced()
        && client.nodes().withLabel(POOL).list().getItems().stream().allMatch(ExtenderE2EIT::ready));
  }

  @AfterAll
  static void stop(KubernetesClient client) throws Exception {
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    if (view != null) {
      view.close();
    }
    client.nodes().withLabel(POOL).delete();
  }

  private static void listen() throws Exception {
    server = vertx.createHttpServer().requestHandler(router).listen(8888, "127.0.0.1").toCompletionStage().toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  private static Node node(String name, String capacityType, String zone) {
    return new NodeBuilder().withNewMetadata().withName(name)
        .addToLabels(POOL, "true").addToLabels(WellKnownLabels.CAPACITY_TYPE, capacityType)
        .addToLabels(WellKnownLabels.ZONE, zone).addToLabels(WellKnownLabels.INSTANCE_TYPE, "m5.2xlarge")
        .addToLabels(WellKnownLabels.NODEPOOL, "general").addToLabels("kubernetes.io/hostname", name)
        .addToAnnotations("kwok.x-k8s.io/node", "fake").endMetadata()
        .withNewStatus()
        .addToCapacity("cpu", new Quantity("8")).addToCapacity("memory", new Quantity("32Gi")).addToCapacity("pods", new Quantity("110"))
        .addToAllocatable("cpu", new Quantity("8")).addToAllocatable("memory", new Quantity("32Gi")).addToAllocatable("pods", new Quantity("110"))
        .endStatus().build();
  }

  private static boolean ready(Node n) {
    return n.getStatus() != null && n.getStatus().getConditions() != null
        && n.getStatus().getConditions().stream().anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  /**
   * Creates a namespace rule of 100 % spot (CostOptimized) and waits until the extender governs the
   * namespace by it (not by a cluster-level rule an earlier test deleted a moment ago); returns its name.
   */
  private static String allSpotRuleInForce(KubernetesClient client, TestNamespace ns) {
    String rule = ns.unique("all-spot");
    client.resources(WorkloadDistributionRule.class).resource(rule(rule, ns.name(), 100, 0, Strategy.CostOptimized)).create();
    await().atMost(Duration.ofSeconds(10)).until(() -> view.rules().forNamespace(ns.name()).map(e -> e.name().equals(rule)).orElse(false));
    return rule;
  }

  private static WorkloadDistributionRule rule(String name, String namespace, int spot, int base, Strategy strategy) {
    WorkloadDistributionRule r = new WorkloadDistributionRule();
    r.getMetadata().setName(name);
    r.setSpec(new WorkloadDistributionRuleSpec(namespace, new Distribution(spot, 100 - spot), "SpotReady", base, strategy));
    return r;
  }

  private static void deploy(KubernetesClient client, TestNamespace ns, String name, int replicas) {
    deploy(client, ns, name, replicas, Map.of());
  }

  private static void deploy(KubernetesClient client, TestNamespace ns, String name, int replicas, Map<String, String> nodeSelector) {
    client.apps().deployments().inNamespace(ns.name()).resource(new DeploymentBuilder()
        .withNewMetadata().withName(name).endMetadata()
        .withNewSpec().withReplicas(replicas).withNewSelector().addToMatchLabels("app", name).endSelector()
        .withNewTemplate().withNewMetadata().addToLabels("app", name).endMetadata()
        .withNewSpec().addToNodeSelector(POOL, "true").addToNodeSelector(nodeSelector)
        .addNewContainer().withName("app").withImage("registry.k8s.io/pause:3.10")
        .withNewResources().addToRequests("cpu", new Quantity("100m")).addToRequests("memory", new Quantity("128Mi")).endResources()
        .endContainer().endSpec().endTemplate().endSpec().build()).serverSideApply();
  }

  /**
   * The README's split of {@code replicas} under base on-demand {@code base} and on-demand percentage {@code onDemandPercent}:
   * {@code min(B, N) + ceil((N - min(B, N)) x P / 100)} on-demand, the rest spot; only the types with replicas appear.
   */
  private static Map<String, Integer> readmeSplit(int replicas, int base, int onDemandPercent) {
    int b = Math.min(base, replicas);
    int onDemand = b + ((replicas - b) * onDemandPercent + 99) / 100;
    Map<String, Integer> out = new HashMap<>();
    if (onDemand > 0) {
      out.put("on-demand", onDemand);
    }
    if (replicas > onDemand) {
      out.put("spot", replicas - onDemand);
    }
    return out;
  }

  /**
   * Pods of the namespace kube-scheduler placed without the extender's answer (it is ignorable, so an error or a
   * timeout lets the pod through unfiltered), as kube-scheduler logs them: a split is only the extender's if none.
   */
  private static List<String> placedWithoutTheExtender(ControlPlane cp, TestNamespace ns) throws IOException {
    assertThat(cp).isInstanceOf(KwokCluster.class);
    String pod = "pod=\"" + ns.name() + "/";
    try (Stream<String> lines = Files.lines(((KwokCluster) cp).log("kube-scheduler"))) {
      return lines.filter(l -> l.contains("Skipping extender") && l.contains(pod)).toList();
    }
  }

  /** Waits until {@code replicas} pods of the Deployment run, then counts them by their node's capacity type. */
  private static Map<String, Integer> runningByCapacityType(KubernetesClient client, TestNamespace ns, String app, int replicas) {
    await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> assertThat(running(client, ns, app)).hasSize(replicas));
    Map<String, Integer> out = new HashMap<>();
    for (Pod p : running(client, ns, app)) {
      String type = client.nodes().withName(p.getSpec().getNodeName()).get().getMetadata().getLabels().get(WellKnownLabels.CAPACITY_TYPE);
      out.merge(type, 1, Integer::sum);
    }
    return out;
  }

  private static List<Pod> running(KubernetesClient client, TestNamespace ns, String app) {
    return client.pods().inNamespace(ns.name()).withLabel("app", app).list().getItems().stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null && "Running".equals(p.getStatus().getPhase())).toList();
  }

  @Test
  void twentyReplicasUnderSeventyThirtySplitFourteenSixAndKeepTheSplitAtThirty(KubernetesClient client, ControlPlane cp, TestNamespace ns)
      throws IOException {
    String clusterRule = ns.unique("cluster-default");
    client.resources(WorkloadDistributionRule.class).resource(rule(clusterRule, null, 70, 0, Strategy.CostOptimized)).create();
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> view.rules().forNamespace(ns.name()).map(e -> e.name().equals(clusterRule)).orElse(false));
      deploy(client, ns, "web", 20);
      Map<String, Integer> at20 = runningByCapacityType(client, ns, "web", 20);
      assertThat(placedWithoutTheExtender(cp, ns)).as("replicas kube-scheduler placed without the extender's answer").isEmpty();
      assertThat(at20).as("20 replicas under 70/30").isEqualTo(readmeSplit(20, 0, 30));

      deploy(client, ns, "web", 30);
      Map<String, Integer> at30 = runningByCapacityType(client, ns, "web", 30);
      assertThat(placedWithoutTheExtender(cp, ns)).as("replicas kube-scheduler placed without the extender's answer").isEmpty();
      assertThat(at30).as("30 replicas under 70/30").isEqualTo(readmeSplit(30, 0, 30));
      // kube-scheduler really asked: at least one governed filter call per replica.
      assertThat(registry.get("dovetail.extender.decisions").tag("verb", "filter").tag("outcome", "governed").counter().count())
          .isGreaterThanOrEqualTo(30);
    } finally {
      client.resources(WorkloadDistributionRule.class).withName(clusterRule).delete();
    }
  }

  @Test
  void aNamespaceRuleOverridesTheClusterLevelRule(KubernetesClient client, ControlPlane cp, TestNamespace ns) throws IOException {
    String clusterRule = ns.unique("cluster-default");
    String namespaceRule = ns.unique("all-on-demand");
    client.resources(WorkloadDistributionRule.class).resource(rule(clusterRule, null, 70, 0, Strategy.CostOptimized)).create();
    client.resources(WorkloadDistributionRule.class).resource(rule(namespaceRule, ns.name(), 20, 2, Strategy.CostOptimized)).create();
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> view.rules().forNamespace(ns.name())
          .map(e -> e.name().equals(namespaceRule)).orElse(false));
      deploy(client, ns, "api", 10);
      // base 2 on-demand, then 20% spot of the other 8: 2 + ceil(8 * 0.8) = 9 on-demand, 1 spot.
      Map<String, Integer> split = runningByCapacityType(client, ns, "api", 10);
      assertThat(placedWithoutTheExtender(cp, ns)).as("replicas kube-scheduler placed without the extender's answer").isEmpty();
      assertThat(split).as("10 replicas under the namespace rule").isEqualTo(readmeSplit(10, 2, 80));
    } finally {
      client.resources(WorkloadDistributionRule.class).withName(clusterRule).delete();
      client.resources(WorkloadDistributionRule.class).withName(namespaceRule).delete();
    }
  }

  @Test
  void leastInterruptedSpreadsWhereCostOptimizedPacks(KubernetesClient client, ControlPlane cp, TestNamespace ns) throws IOException {
    String rule = allSpotRuleInForce(client, ns);
    try {
      deploy(client, ns, "packed", 6);
      assertThat(runningByCapacityType(client, ns, "packed", 6)).as("6 replicas all on spot").isEqualTo(readmeSplit(6, 0, 0));
      Set<String> packedNodes = running(client, ns, "packed").stream().map(p -> p.getSpec().getNodeName()).collect(Collectors.toSet());

      client.resources(WorkloadDistributionRule.class).withName(rule).edit(r -> {
        r.setSpec(new WorkloadDistributionRuleSpec(ns.name(), new Distribution(100, 0), "SpotReady", 0, Strategy.LeastInterrupted));
        return r;
      });
      await().atMost(Duration.ofSeconds(10)).until(() -> view.rules().forNamespace(ns.name())
          .map(e -> e.rule().strategy() == Strategy.LeastInterrupted).orElse(false));
      deploy(client, ns, "spread", 6);
      Map<String, Integer> split = runningByCapacityType(client, ns, "spread", 6);
      Set<String> spreadNodes = running(client, ns, "spread").stream().map(p -> p.getSpec().getNodeName()).collect(Collectors.toSet());

      assertThat(placedWithoutTheExtender(cp, ns)).as("replicas kube-scheduler placed without the extender's answer").isEmpty();
      assertThat(split).as("6 replicas all on spot").isEqualTo(readmeSplit(6, 0, 0));
      assertThat(spreadNodes).as("LeastInterrupted").hasSizeGreaterThanOrEqualTo(3);
      assertThat(packedNodes).as("CostOptimized").hasSizeLessThan(spreadNodes.size()).hasSizeLessThanOrEqualTo(2);
    } finally {
      client.resources(WorkloadDistributionRule.class).withName(rule).delete();
    }
  }

  @Test
  void whenNoNodeOfTheNeededCapacityTypeFitsThePodStaysPendingWithTheExtendersReason(KubernetesClient client, TestNamespace ns) {
    String rule = allSpotRuleInForce(client, ns);
    try {
      // Pinned by host name (not by capacity type, which would exempt them) to one on-demand node: the rule wants spot.
      deploy(client, ns, "stuck", 2, Map.of("kubernetes.io/hostname", "e2e-od-0"));
      // Both replicas (the ReplicaSet controller may create the second a moment after the first is refused),
      // each refused with the extender's reason.
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
        List<Pod> pods = client.pods().inNamespace(ns.name()).withLabel("app", "stuck").list().getItems();
        List<Event> refusals = client.v1().events().inNamespace(ns.name()).list().getItems().stream()
            .filter(e -> "FailedScheduling".equals(e.getReason())).filter(e -> e.getMessage().contains(
                "dovetail: Deployment " + ns.name() + "/stuck needs spot capacity") && e.getMessage().contains("node is on-demand")
                && e.getMessage().contains("rule " + rule)).toList();
        assertThat(pods).hasSize(2).allSatisfy(p -> assertThat(refusals).as("a refusal of " + p.getMetadata().getName())
            .anySatisfy(e -> assertThat(e.getInvolvedObject().getName()).isEqualTo(p.getMetadata().getName())));
      });
      assertThat(client.pods().inNamespace(ns.name()).withLabel("app", "stuck").list().getItems()).hasSize(2)
          .allSatisfy(p -> assertThat(p.getSpec().getNodeName()).isNull());
    } finally {
      client.resources(WorkloadDistributionRule.class).withName(rule).delete();
    }
  }

  @Test
  void withTheExtenderDownPodsStillScheduleBecauseItIsIgnorable(KubernetesClient client, TestNamespace ns) throws Exception {
    String rule = allSpotRuleInForce(client, ns);
    server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    try {
      deploy(client, ns, "unguarded", 4, Map.of("kubernetes.io/hostname", "e2e-od-1"));
      // kube-scheduler cannot reach the extender and, as configured (ignorable: true), places the pods without
      // it: on the on-demand node the rule would have refused.
      Map<String, Integer> split = runningByCapacityType(client, ns, "unguarded", 4);
      assertThat(split).containsOnly(Map.entry("on-demand", 4));
    } finally {
      listen();
      client.resources(WorkloadDistributionRule.class).withName(rule).delete();
    }
  }
}
