package dev.dovetail.provisioner.provisioning;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfig;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfigSpec;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfigStatus;
import dev.dovetail.api.config.v1alpha1.CommitmentIntegration;
import dev.dovetail.api.config.v1alpha1.ReservedInstance;
import dev.dovetail.api.karpenter.v1.Disruption;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.testing.Expect;
import dev.dovetail.provisioner.testing.Kubelet;
import dev.dovetail.provisioner.testing.NodeClasses;
import dev.dovetail.provisioner.testing.NodePools;
import dev.dovetail.provisioner.testing.OrchestratorConfigs;
import dev.dovetail.provisioner.testing.Pods;
import dev.dovetail.provisioner.testing.TestOperator;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithApiServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Commitments first (F12) with the sim provider, on a real API server: Reserved Instances listed in the
 * ClusterOrchestratorConfig are launched before spot, at their effective price, and never beyond their
 * count; the config's status and a gauge say how much of each is in use.
 */
@WithApiServer
class CommitmentsApiTest {
  @RegisterExtension
  final TestOperator.PerTest operator = new TestOperator.PerTest();

  @AfterEach
  void removeConfig(KubernetesClient client) {
    client.resources(ClusterOrchestratorConfig.class).withName(ClusterOrchestratorConfig.NAME).delete();
  }

  @Test
  void fourReservedM5XlargeAreUsedBeforeSpotAndNeverExceeded(KubernetesClient client, TestNamespace ns) {
    TestOperator provisioner = operator.start(client);
    client.resource(OrchestratorConfigs.of(new ClusterOrchestratorConfigSpec(null, new CommitmentIntegration(true, "123456789012",
        List.of(new ReservedInstance("m5.xlarge", "us-east-1a", 4))), null, null, null, null))).create();
    EC2NodeClass nodeClass = Expect.readyNodeClass(client, NodeClasses.nodeClass());
    // The pods are never bound: the nodes stay empty, and consolidation, which would remove them, is off.
    String pool = client.resource(NodePools.nodePool(p -> p.nodeClass(nodeClass.getMetadata().getName()),
        p -> p.disruption(new Disruption("Never", Disruption.ConsolidationPolicy.WhenEmpty, null)),
        p -> p.requirements(NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_TYPE, "m5.xlarge"),
            NodeSelectorRequirementWithMinValues.in(WellKnownLabels.ZONE, "us-east-1a"),
            NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.SPOT, WellKnownLabels.ON_DEMAND))))
        .create().getMetadata().getName();
    // Six pods of three CPUs: one per m5.xlarge, six claims that may each be spot or on-demand.
    for (int i = 0; i < 6; i++) {
      Kubelet.unschedulable(client, Pods.pod(Pods.in(ns.name()), Pods.requests("3", "4Gi")));
    }

    List<NodeClaim> launched = Expect.eventually("six launched NodeClaims", () -> client.resources(NodeClaim.class)
        .withLabel(WellKnownLabels.NODEPOOL, pool).list().getItems().stream()
        .filter(c -> c.getStatus() != null && c.getStatus().providerID() != null).toList(), l -> l.size() == 6);
    Map<String, Long> byCapacityType = launched.stream()
        .collect(Collectors.groupingBy(c -> c.getMetadata().getLabels().get(WellKnownLabels.CAPACITY_TYPE), Collectors.counting()));
    assertThat(byCapacityType).as("the four reserved first, then spot: never a fifth on-demand")
        .containsExactlyInAnyOrderEntriesOf(Map.of(WellKnownLabels.ON_DEMAND, 4L, WellKnownLabels.SPOT, 2L));

    List<String> nodes = launched.stream().map(c -> Kubelet.join(client, c.getMetadata().getName())).toList();
    ClusterOrchestratorConfig config = inUse(client, 4);
    assertThat(config.getStatus().commitments()).containsExactly(new ClusterOrchestratorConfigStatus.CommitmentUse("m5.xlarge", "us-east-1a", 4, 4));
    assertThat(provisioner.registry().get("dovetail.commitment.utilization.ratio").tag("instance_type", "m5.xlarge").gauge().value()).isEqualTo(1.0);

    // The count follows a change of a node's labels alone, as it must when registration writes a claim's labels onto
    // its Node (an update, not an add): the status has no period to fall back on for the sim's commitments.
    String onDemand = nodes.stream().filter(n -> WellKnownLabels.ON_DEMAND.equals(client.nodes().withName(n).get().getMetadata().getLabels()
        .get(WellKnownLabels.CAPACITY_TYPE))).findFirst().orElseThrow();
    client.nodes().withName(onDemand).edit(n -> {
      n.getMetadata().getLabels().remove(WellKnownLabels.CAPACITY_TYPE);
      return n;
    });
    assertThat(inUse(client, 3).getStatus().commitments()).containsExactly(new ClusterOrchestratorConfigStatus.CommitmentUse("m5.xlarge", "us-east-1a", 4, 3));
  }

  private static ClusterOrchestratorConfig inUse(KubernetesClient client, int count) {
    return Expect.eventually(count + " of the commitment in use", () -> client.resources(ClusterOrchestratorConfig.class)
        .withName(ClusterOrchestratorConfig.NAME).get(), c -> c.getStatus() != null && c.getStatus().commitments() != null
            && c.getStatus().commitments().get(0).inUse() == count);
  }
}
