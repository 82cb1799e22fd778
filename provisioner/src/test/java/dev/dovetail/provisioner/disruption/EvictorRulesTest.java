package dev.dovetail.provisioner.disruption;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.config.v1alpha1.PodEvictor;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The pod evictor's rules for the nodes of NodePools a ClusterOrchestratorConfig manages. */
class EvictorRulesTest {
  private static final PodEvictor THIRTY = new PodEvictor(true, false, 30, 30, 20);

  /** A 4-CPU, 16 GiB node running these pods. */
  private static Candidate node(Pod... pods) {
    NodeClaim claim = new NodeClaim();
    claim.setMetadata(new ObjectMetaBuilder().withName("c").build());
    Node node = new NodeBuilder().withNewMetadata().withName("n").endMetadata().withNewStatus()
        .addToAllocatable("cpu", new Quantity("4")).addToAllocatable("memory", new Quantity("16Gi")).addToAllocatable("pods", new Quantity("110"))
        .endStatus().build();
    return new Candidate(claim, Optional.of(node), List.of(pods));
  }

  private static Pod pod(String name, String cpu, String memory) {
    return new PodBuilder().withNewMetadata().withName(name).withNamespace("shop").withUid(name)
        .withOwnerReferences(List.of()).endMetadata()
        .withNewSpec().withNodeName("n").addNewContainer().withName("c").withNewResources()
        .addToRequests(Map.of("cpu", new Quantity(cpu), "memory", new Quantity(memory))).endResources().endContainer().endSpec()
        .withNewStatus().withPhase("Running").endStatus().build();
  }

  private static Pod daemon(String name, String cpu, String memory) {
    return new PodBuilder(pod(name, cpu, memory)).editMetadata().addNewOwnerReference().withApiVersion("apps/v1").withKind("DaemonSet")
        .withName("ds").withUid("ds").withController(true).endOwnerReference().endMetadata().build();
  }

  @Test
  void aNodeBelowBothThresholdsIsUnderUsed() {
    // 1 CPU of 4 (25 %) and 4 GiB of 16 (25 %), both under 30 %.
    assertThat(EvictorRules.blocker(node(pod("a", "1", "4Gi")), THIRTY, p -> 3)).isEmpty();
  }

  @Test
  void eitherResourceAtOrAboveItsThresholdKeepsTheNode() {
    assertThat(EvictorRules.blocker(node(pod("a", "1200m", "1Gi")), THIRTY, p -> 3))
        .contains(new Unconsolidatable.AboveUtilizationThreshold(30, 6, 30, 30));
    assertThat(EvictorRules.blocker(node(pod("a", "100m", "8Gi")), THIRTY, p -> 3))
        .contains(new Unconsolidatable.AboveUtilizationThreshold(3, 50, 30, 30));
  }

  @Test
  void daemonSetPodsDoNotCountTowardsUse() {
    assertThat(EvictorRules.blocker(node(pod("a", "500m", "1Gi"), daemon("d", "2", "8Gi")), THIRTY, p -> 3)).isEmpty();
  }

  @Test
  void aSingleReplicaKeepsTheNodeUnlessSingleReplicasMayBeEvicted() {
    Candidate c = node(pod("a", "100m", "1Gi"), pod("only", "100m", "1Gi"));
    assertThat(EvictorRules.blocker(c, THIRTY, p -> p.getMetadata().getName().equals("only") ? 1 : 3))
        .contains(new Unconsolidatable.SingleReplica("shop/only"));
    assertThat(EvictorRules.blocker(c, new PodEvictor(true, true, 30, 30, 20), p -> p.getMetadata().getName().equals("only") ? 1 : 3)).isEmpty();
  }

  @Test
  void moreReschedulablePodsThanTheEvictionCapKeepTheNode() {
    Pod[] pods = IntStream.range(0, 5).mapToObj(i -> pod("p" + i, "10m", "10Mi")).toArray(Pod[]::new);
    assertThat(EvictorRules.blocker(node(pods), new PodEvictor(true, false, 30, 30, 4), p -> 3))
        .contains(new Unconsolidatable.TooManyEvictions(5, 4));
    assertThat(EvictorRules.blocker(node(pods), new PodEvictor(true, false, 30, 30, 5), p -> 3)).isEmpty();
  }
}
