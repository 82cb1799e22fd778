package dev.dovetail.provisioner.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfigStatus.ComputedLimits;
import dev.dovetail.api.config.v1alpha1.NodePoolLimits;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.NodePoolSpec;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Default NodePool limits (F15): twice the Ready capacity, raised as the cluster grows, and never over a pool's own. */
class DefaultLimitsTest {
  private static final Instant NOW = Instant.parse("2026-12-06T12:00:00Z");

  private static Node node(String cpu, String memory, boolean ready) {
    return new NodeBuilder().withNewMetadata().withName("n-" + cpu + memory + ready).endMetadata().withNewStatus()
        .addToAllocatable("cpu", new Quantity(cpu)).addToAllocatable("memory", new Quantity(memory))
        .addNewCondition().withType("Ready").withStatus(ready ? "True" : "False").endCondition().endStatus().build();
  }

  private static NodePool pool(Map<String, String> limits, String annotation, Long replicas) {
    NodePool p = new NodePool();
    Map<String, String> annotations = new HashMap<>();
    if (annotation != null) {
      annotations.put(DovetailLabels.DEFAULT_LIMITS, annotation);
    }
    p.setMetadata(new ObjectMetaBuilder().withName("general").withAnnotations(annotations).build());
    Map<String, Quantity> quantities = new HashMap<>();
    limits.forEach((k, v) -> quantities.put(k, new Quantity(v)));
    p.setSpec(new NodePoolSpec(null, null, quantities.isEmpty() ? null : quantities, null, replicas));
    return p;
  }

  @Test
  void twiceTheReadyNodesRoundedUpAndNothingWithoutAny() {
    assertThat(DefaultLimits.compute(List.of(node("3500m", "15Gi", true), node("1930m", "7Gi", true), node("64", "256Gi", false)), NOW))
        .contains(new ComputedLimits("11", "44Gi", NOW.toString()));
    assertThat(DefaultLimits.compute(List.of(node("64", "256Gi", false)), NOW)).isEmpty();
  }

  @Test
  void storedLimitsStayUnlessTheClusterGrewPastThem() {
    ComputedLimits stored = new ComputedLimits("16", "64Gi", "2026-12-01T00:00:00Z");
    assertThat(DefaultLimits.refreshed(Optional.of(stored), new ComputedLimits("8", "32Gi", NOW.toString()))).isEqualTo(stored);
    ComputedLimits grown = new ComputedLimits("32", "64Gi", NOW.toString());
    assertThat(DefaultLimits.refreshed(Optional.of(stored), grown)).isEqualTo(grown);
    assertThat(DefaultLimits.refreshed(Optional.empty(), grown)).isEqualTo(grown);
    assertThat(DefaultLimits.refreshed(Optional.of(stored), new ComputedLimits("20", "48Gi", NOW.toString())))
        .as("each dimension on its own: never lowered").isEqualTo(new ComputedLimits("20", "64Gi", NOW.toString()));
  }

  @Test
  void clusterLevelLimitsWinOverComputedOnes() {
    ComputedLimits computed = new ComputedLimits("16", "64Gi", NOW.toString());
    assertThat(DefaultLimits.effective(Optional.of(new NodePoolLimits(new Quantity("1000"), new Quantity("4000Gi"))), computed))
        .containsExactly(Map.entry("cpu", "1000"), Map.entry("memory", "4000Gi"));
    assertThat(DefaultLimits.effective(Optional.empty(), computed)).containsExactly(Map.entry("cpu", "16"), Map.entry("memory", "64Gi"));
  }

  @Test
  void aPoolWithoutLimitsGetsThemAndOneWithItsOwnKeepsThem() {
    Map<String, String> limits = Map.of("cpu", "16", "memory", "64Gi");
    assertThat(DefaultLimits.patch(pool(Map.of(), null, null), limits)).contains(Map.of(
        "metadata", Map.of("annotations", Map.of(DovetailLabels.DEFAULT_LIMITS, "cpu=16,memory=64Gi")), "spec", Map.of("limits", limits)));
    assertThat(DefaultLimits.patch(pool(Map.of("cpu", "8", "memory", "32Gi"), "cpu=8,memory=32Gi", null), limits))
        .as("ours, from a smaller cluster: raised").isPresent();
    assertThat(DefaultLimits.patch(pool(limits, "cpu=16,memory=64Gi", null), limits)).as("ours and current").isEmpty();
    assertThat(DefaultLimits.patch(pool(Map.of("cpu", "100"), null, null), limits)).as("the pool's own").isEmpty();
    Map<String, Object> drop = new HashMap<>();
    drop.put(DovetailLabels.DEFAULT_LIMITS, null);
    assertThat(DefaultLimits.patch(pool(Map.of("cpu", "100", "memory", "64Gi"), "cpu=16,memory=64Gi", null), limits))
        .as("ours, then edited: the pool's own from now on").contains(Map.of("metadata", Map.of("annotations", drop)));
    assertThat(DefaultLimits.patch(pool(Map.of(), null, 3L), limits)).as("a static pool").isEmpty();
    Map<String, Object> cpuOnly = new HashMap<>(Map.of("cpu", "1000"));
    cpuOnly.put("memory", null);
    assertThat(DefaultLimits.patch(pool(limits, "cpu=16,memory=64Gi", null), Map.of("cpu", "1000"))).as("a key the new limits drop is removed")
        .contains(Map.of("metadata", Map.of("annotations", Map.of(DovetailLabels.DEFAULT_LIMITS, "cpu=1000")), "spec", Map.of("limits", cpuOnly)));
  }
}
