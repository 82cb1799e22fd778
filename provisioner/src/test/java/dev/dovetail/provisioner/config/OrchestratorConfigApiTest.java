package dev.dovetail.provisioner.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfig;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfigSpec;
import dev.dovetail.api.config.v1alpha1.CommitmentIntegration;
import dev.dovetail.api.config.v1alpha1.Consolidation;
import dev.dovetail.api.config.v1alpha1.PodEvictor;
import dev.dovetail.api.config.v1alpha1.ReplacementWindow;
import dev.dovetail.api.config.v1alpha1.ReverseFallback;
import dev.dovetail.api.karpenter.v1.Budget;
import dev.dovetail.api.karpenter.v1.Disruption;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.provisioner.testing.Expect;
import dev.dovetail.provisioner.testing.Kubelet;
import dev.dovetail.provisioner.testing.NodePools;
import dev.dovetail.provisioner.testing.Nodes;
import dev.dovetail.provisioner.testing.OrchestratorConfigs;
import dev.dovetail.provisioner.testing.Sweep;
import dev.dovetail.provisioner.testing.TestOperator;
import dev.dovetail.testkit.WithApiServer;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The ClusterOrchestratorConfig's node disruption settings on a real API server: written into the
 * NodePools that opt in, kept there against edits, left out of the others; the config's status names
 * the managed pools and says when the cluster can never scale down.
 */
@WithApiServer
class OrchestratorConfigApiTest {
  @RegisterExtension
  final TestOperator.PerTest operator = new TestOperator.PerTest();

  private static final Disruption OWN = new Disruption("0s", Disruption.ConsolidationPolicy.WhenEmpty, null);

  @AfterEach
  void removeConfig(KubernetesClient client) {
    client.resources(ClusterOrchestratorConfig.class).withName(ClusterOrchestratorConfig.NAME).delete();
    Sweep.all(client);
  }

  private static NodePool pool(KubernetesClient client, boolean managed) {
    return client.resource(NodePools.nodePool(p -> p.disruption(OWN), p -> managed ? p.label(DovetailLabels.ORCHESTRATED, "true") : p)).create();
  }

  private static NodePool read(KubernetesClient client, NodePool pool) {
    return client.resources(NodePool.class).withName(pool.getMetadata().getName()).get();
  }

  private static ClusterOrchestratorConfig config(KubernetesClient client) {
    return client.resources(ClusterOrchestratorConfig.class).withName(ClusterOrchestratorConfig.NAME).get();
  }

  private static void patchConfig(KubernetesClient client, String json) {
    client.resources(ClusterOrchestratorConfig.class).withName(ClusterOrchestratorConfig.NAME).patch(PatchContext.of(PatchType.JSON_MERGE), json);
  }

  private static boolean has(ClusterOrchestratorConfig c, String type, Condition.Status status) {
    return c.getStatus() != null && Expect.has(c.getStatus().conditions(), type, status, null);
  }

  @Test
  void managedPoolsTakeTheConfigsSettingsAndKeepThemWhileOthersKeepTheirOwn(KubernetesClient client) {
    operator.start(client);
    NodePool managed = pool(client, true);
    NodePool own = pool(client, false);
    ClusterOrchestratorConfig config = OrchestratorConfigs.consolidation(new Consolidation("48h", "Underutilized", "5m", null, List.of(Budget.nodes("2")), null, new PodEvictor(true, null, null, null, null)));
    client.resource(config).create();

    NodePool written = Expect.eventually("the managed pool with the config's settings", () -> read(client, managed),
        p -> "5m".equals(p.getSpec().disruption().consolidateAfter()));
    assertThat(written.getSpec().disruption()).isEqualTo(
        new Disruption("5m", Disruption.ConsolidationPolicy.WhenEmptyOrUnderutilized, List.of(Budget.nodes("2"))));
    assertThat(written.getSpec().template().spec().expireAfter()).isEqualTo("48h");
    Expect.event(client, "default", managed.getMetadata().getName(), "OrchestratorConfigApplied");
    ClusterOrchestratorConfig status = Expect.eventually("the config's status", () -> config(client),
        c -> has(c, OrchestratorConfigController.SCALE_DOWN_ENABLED, Condition.Status.True) && has(c, OrchestratorConfigController.READY, Condition.Status.True));
    assertThat(status.getStatus().nodePools()).contains(managed.getMetadata().getName()).doesNotContain(own.getMetadata().getName());
    assertThat(status.getStatus().observedGeneration()).isEqualTo(status.getMetadata().getGeneration());
    assertThat(read(client, own).getSpec().disruption()).as("a pool without the label keeps its own").isEqualTo(own.getSpec().disruption());
    assertThat(read(client, own).getSpec().template().spec().expireAfter()).isEqualTo("720h");

    // The config is authoritative for the pools that opt in: an edit there is put back.
    client.resources(NodePool.class).withName(managed.getMetadata().getName()).patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"spec\":{\"disruption\":{\"consolidateAfter\":\"1h\"}}}");
    Expect.eventually("the edit put back", () -> read(client, managed), p -> "5m".equals(p.getSpec().disruption().consolidateAfter()));

    // Opting out: the pool keeps what it has and leaves the status.
    client.resources(NodePool.class).withName(managed.getMetadata().getName()).patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"metadata\":{\"labels\":{\"" + DovetailLabels.ORCHESTRATED + "\":null}}}");
    Expect.eventually("the pool out of the status", () -> config(client), c -> !c.getStatus().nodePools().contains(managed.getMetadata().getName()));
    patchConfig(client, "{\"spec\":{\"consolidation\":{\"after\":\"7m\"}}}");
    Expect.eventually("the new generation observed", () -> config(client),
        c -> c.getStatus().observedGeneration().equals(c.getMetadata().getGeneration()));
    assertThat(read(client, managed).getSpec().disruption().consolidateAfter()).isEqualTo("5m");
  }

  @Test
  void withoutBinPackingTheManagedPoolsNeverConsolidateAndTheConfigWarns(KubernetesClient client) {
    operator.start(client);
    NodePool managed = pool(client, true);
    ClusterOrchestratorConfig config = OrchestratorConfigs.consolidation(new Consolidation(null, "WhenEmpty", "10m", null, null, null, new PodEvictor(true, null, null, null, null)));
    client.resource(config).create();
    Expect.eventually("the delay written", () -> read(client, managed), p -> "10m".equals(p.getSpec().disruption().consolidateAfter()));

    patchConfig(client, "{\"spec\":{\"consolidation\":{\"podEvictor\":{\"enabled\":false}}}}");
    Expect.eventually("consolidateAfter Never", () -> read(client, managed), p -> "Never".equals(p.getSpec().disruption().consolidateAfter()));
    ClusterOrchestratorConfig off = Expect.eventually("ScaleDownEnabled False", () -> config(client),
        c -> has(c, OrchestratorConfigController.SCALE_DOWN_ENABLED, Condition.Status.False));
    assertThat(Expect.get(off.getStatus().conditions(), OrchestratorConfigController.SCALE_DOWN_ENABLED).orElseThrow().message())
        .contains("bin-packing is off");
    assertThat(Expect.event(client, "default", ClusterOrchestratorConfig.NAME, "ScaleDownDisabled").getType()).isEqualTo("Warning");
  }

  @Test
  void theStatusSaysWhichSpotSettingsAreInForceAndWhichAreIgnored(KubernetesClient client) {
    operator.start(client);
    client.resource(OrchestratorConfigs.of(new ClusterOrchestratorConfigSpec(null, new CommitmentIntegration(true, "123456789012"),
        new ReverseFallback(true, "6h"), null, null, new ReplacementWindow("Never", new ReplacementWindow.AppliesTo(false, false, true), null)))).create();
    ClusterOrchestratorConfig status = Expect.eventually("the spot conditions", () -> config(client),
        c -> has(c, OrchestratorConfigController.REVERSE_FALLBACK, Condition.Status.True)
            && has(c, OrchestratorConfigController.ROBUST_DISTRIBUTION, Condition.Status.False)
            && has(c, OrchestratorConfigController.SETTINGS_IGNORED, Condition.Status.True));
    assertThat(Expect.get(status.getStatus().conditions(), OrchestratorConfigController.REVERSE_FALLBACK).orElseThrow().message())
        .contains("every 6h").endsWith("inside the replacement window");
    assertThat(Expect.get(status.getStatus().conditions(), OrchestratorConfigController.ROBUST_DISTRIBUTION).orElseThrow().message())
        .contains("consolidation.podEvictor.enabled");
    assertThat(Expect.get(status.getStatus().conditions(), OrchestratorConfigController.SETTINGS_IGNORED).orElseThrow().message())
        .startsWith("commitmentIntegration");

    patchConfig(client, "{\"spec\":{\"reverseFallback\":{\"enabled\":false},\"commitmentIntegration\":null,"
        + "\"consolidation\":{\"podEvictor\":{\"enabled\":true,\"maxEvictions\":5}}}}");
    status = Expect.eventually("the conditions after the change", () -> config(client),
        c -> has(c, OrchestratorConfigController.REVERSE_FALLBACK, Condition.Status.False)
            && has(c, OrchestratorConfigController.ROBUST_DISTRIBUTION, Condition.Status.True)
            && has(c, OrchestratorConfigController.SETTINGS_IGNORED, Condition.Status.False));
    assertThat(Expect.get(status.getStatus().conditions(), OrchestratorConfigController.ROBUST_DISTRIBUTION).orElseThrow().message())
        .contains("at most 5 a pass").doesNotContain("window");
  }

  @Test
  void aManagedPoolWithoutLimitsGetsTwiceTheClusterAndKeepsTheLimitsItIsGiven(KubernetesClient client) {
    for (int i = 0; i < 2; i++) {
      String name = client.nodes().resource(Nodes.node()).create().getMetadata().getName();
      Kubelet.ready(client, name);
      client.nodes().withName(name).subresource("status").patch(PatchContext.of(PatchType.STRATEGIC_MERGE),
          "{\"status\":{\"allocatable\":{\"cpu\":\"3500m\",\"memory\":\"15Gi\",\"pods\":\"110\"}}}");
    }
    // Twice the Ready nodes' allocatable, whatever else the API server holds: CPU in whole cores, memory in whole GiB, rounded up.
    long millis = 0;
    long bytes = 0;
    for (Node n : client.nodes().list().getItems()) {
      if (n.getStatus().getConditions().stream().anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()))) {
        millis += n.getStatus().getAllocatable().get("cpu").getNumericalAmount().movePointRight(3).longValue();
        bytes += n.getStatus().getAllocatable().get("memory").getNumericalAmount().longValue();
      }
    }
    String cpu = Long.toString((2 * millis + 999) / 1000);
    String memory = ((2 * bytes + (1L << 30) - 1) >> 30) + "Gi";
    operator.start(client);
    NodePool managed = pool(client, true);
    NodePool own = client.resource(NodePools.nodePool(p -> p.disruption(OWN), p -> p.label(DovetailLabels.ORCHESTRATED, "true"),
        p -> p.limits(Map.of("cpu", new Quantity("100"))))).create();
    client.resource(OrchestratorConfigs.of(new ClusterOrchestratorConfigSpec(null, null, null, null, null, null))).create();

    NodePool limited = Expect.eventually("the managed pool's limits", () -> read(client, managed),
        p -> p.getSpec().limits() != null && !p.getSpec().limits().isEmpty());
    assertThat(limited.getSpec().limits()).containsExactlyInAnyOrderEntriesOf(Map.of("cpu", new Quantity(cpu), "memory", new Quantity(memory)));
    assertThat(limited.getMetadata().getAnnotations()).containsEntry(DovetailLabels.DEFAULT_LIMITS, "cpu=" + cpu + ",memory=" + memory);
    Expect.event(client, "default", managed.getMetadata().getName(), "DefaultLimitsApplied");
    ClusterOrchestratorConfig status = Expect.eventually("the computed limits in the status", () -> config(client),
        c -> c.getStatus() != null && c.getStatus().computedNodePoolLimits() != null);
    assertThat(status.getStatus().computedNodePoolLimits().cpu()).isEqualTo(cpu);
    assertThat(status.getStatus().computedNodePoolLimits().memory()).isEqualTo(memory);
    assertThat(read(client, own).getSpec().limits()).as("a pool's own limits win").containsExactly(Map.entry("cpu", new Quantity("100")));

    // Edited, the limits are the pool's own: kept, and no longer marked as the default.
    client.resources(NodePool.class).withName(managed.getMetadata().getName()).patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"spec\":{\"limits\":{\"cpu\":\"7\"}}}");
    NodePool edited = Expect.eventually("the default mark gone", () -> read(client, managed),
        p -> !p.getMetadata().getAnnotations().containsKey(DovetailLabels.DEFAULT_LIMITS));
    assertThat(edited.getSpec().limits()).containsEntry("cpu", new Quantity("7"));
  }
}
