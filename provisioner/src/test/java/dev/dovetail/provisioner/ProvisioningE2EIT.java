package dev.dovetail.provisioner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.nodeclaim.Conditions;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithCluster;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The provisioner, in this JVM, against a real control plane with kube-scheduler and kwok nodes. */
@WithCluster
class ProvisioningE2EIT {

  @Test
  void pendingPodsGetNodesAndRun(KubernetesClient client, TestNamespace ns) {
    String label = Fixtures.unique("smoke");
    client.resources(dev.dovetail.api.aws.v1.EC2NodeClass.class).resource(Fixtures.nodeClass(label)).create();
    NodePool pool = Fixtures.nodePool(label, label, label, null, 10,
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_CATEGORY, "c", "m", "r"),
        NodeSelectorRequirementWithMinValues.of(WellKnownLabels.INSTANCE_GENERATION, NodeSelectorRequirementWithMinValues.Operator.Gt, "4"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.ARCH, "amd64"));
    client.resources(NodePool.class).resource(pool).create();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try (Operator operator = new Operator(Fixtures.settings("smoke", false), client, Catalog.bundled(), registry, Clock.systemUTC()).start()) {
      client.apps().deployments().resource(Fixtures.deployment(ns.name(), "web", 10, "500m", "1Gi", label)).create();
      await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
        List<Pod> pods = client.pods().inNamespace(ns.name()).list().getItems();
        assertThat(pods).extracting(p -> p.getStatus().getPhase()).as(() -> ClusterDump.of(client, ns.name()))
            .hasSize(10).containsOnly("Running");
      });
      List<NodeClaim> claims = client.resources(NodeClaim.class).withLabel(WellKnownLabels.NODEPOOL, label).list().getItems();
      assertThat(claims).isNotEmpty().allSatisfy(c -> {
        assertThat(Conditions.isTrue(c.getStatus().conditions(), "Initialized")).isTrue();
        assertThat(Conditions.isTrue(c.getStatus().conditions(), "Ready")).isTrue();
        assertThat(c.getStatus().providerID()).startsWith("aws:///us-east-1");
        assertThat(c.getMetadata().getLabels()).containsKeys(WellKnownLabels.INSTANCE_TYPE, WellKnownLabels.ZONE, WellKnownLabels.CAPACITY_TYPE);
        Node node = client.nodes().withName(c.getStatus().nodeName()).get();
        Map<String, String> labels = node.getMetadata().getLabels();
        assertThat(labels).containsEntry(WellKnownLabels.NODEPOOL, label).containsEntry(WellKnownLabels.REGISTERED, "true")
            .containsEntry(WellKnownLabels.INITIALIZED, "true").containsEntry(WellKnownLabels.CAPACITY_TYPE, "on-demand")
            .containsKeys(WellKnownLabels.INSTANCE_FAMILY, WellKnownLabels.INSTANCE_CPU);
        assertThat(node.getSpec().getTaints()).noneMatch(t -> t.getKey().equals("karpenter.sh/unregistered"));
        assertThat(node.getMetadata().getFinalizers()).contains("karpenter.sh/termination");
      });
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
        NodePool status = client.resources(NodePool.class).withName(label).get();
        assertThat(Conditions.isTrue(status.getStatus().conditions(), "Ready")).isTrue();
        assertThat(status.getStatus().nodes()).isEqualTo((long) claims.size());
      });
      System.out.println(registry.scrape().lines().filter(l -> l.startsWith("karpenter_nodeclaims")).toList());
    }
  }
}
