package dev.dovetail.provisioner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithCluster;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The provisioner with the AWS provider, end to end: moto server plays EC2, SSM and IAM; the real
 * control plane schedules; a small bridge plays the kubelet of each launched instance, registering a
 * kwok Node with the instance's provider ID, as a booted EC2 node would.
 */
@WithCluster(schedulerConfig = "manifests/scheduler/local-extender.yaml")
class AwsProvisioningE2EIT {
  private static AwsStack stack;

  @BeforeAll
  static void start(KubernetesClient client) throws Exception {
    stack = AwsStack.start(client, "aws", false);
  }

  @AfterAll
  static void stop() throws Exception {
    if (stack != null) {
      stack.close();
    }
  }

  @Test
  void podsRunOnEc2InstancesLaunchedThroughFleetAndDeletingTheClaimsTerminatesThem(KubernetesClient client, TestNamespace ns) throws Exception {
    String label = Fixtures.unique("aws");
    AwsWorld.readyNodeClass(client, label);
    AwsStack.nodePool(client, label, "on-demand");
    client.apps().deployments().resource(Fixtures.deployment(ns.name(), "web", 6, "1", "1Gi", label)).create();

    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> assertThat(
        client.pods().inNamespace(ns.name()).list().getItems()).as(() -> ClusterDump.of(client, ns.name()))
        .hasSize(6).extracting(Pod::getStatus).extracting(s -> s.getPhase()).containsOnly("Running"));
    List<NodeClaim> claims = ProvisioningE2EIT.claimsOf(client, label);
    assertThat(claims).isNotEmpty().allSatisfy(c -> assertThat(c.getStatus().providerID()).startsWith("aws:///us-east-1"));
    // Every claim has exactly one running instance, tagged for it, and the pods run on those instances' nodes.
    var running = stack.world.aws.ec2().describeInstances(r -> r.filters(f -> f.name("tag:karpenter.sh/nodepool").values(label),
        f -> f.name("instance-state-name").values("running"))).get().reservations().stream().flatMap(r -> r.instances().stream()).toList();
    assertThat(running).hasSameSizeAs(claims);
    assertThat(running).extracting(i -> "aws:///" + i.placement().availabilityZone() + "/" + i.instanceId())
        .containsExactlyInAnyOrderElementsOf(claims.stream().map(c -> c.getStatus().providerID()).toList());
    Set<String> nodes = claims.stream().map(c -> c.getStatus().nodeName()).collect(Collectors.toSet());
    assertThat(client.pods().inNamespace(ns.name()).list().getItems()).extracting(p -> p.getSpec().getNodeName()).allMatch(nodes::contains);

    client.apps().deployments().inNamespace(ns.name()).withName("web").delete();
    claims.forEach(c -> client.resources(NodeClaim.class).withName(c.getMetadata().getName()).delete());
    await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
      assertThat(ProvisioningE2EIT.claimsOf(client, label)).isEmpty();
      var live = stack.world.aws.ec2().describeInstances(r -> r.filters(f -> f.name("tag:karpenter.sh/nodepool").values(label),
          f -> f.name("instance-state-name").values("pending", "running"))).get().reservations();
      assertThat(live).isEmpty();
    });
  }
}
