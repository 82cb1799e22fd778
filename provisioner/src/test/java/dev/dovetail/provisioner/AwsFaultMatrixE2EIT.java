package dev.dovetail.provisioner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.provisioner.cloud.aws.FakeEc2;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithCluster;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * EC2's bad days end to end: the provisioner with the AWS provider launches through our fault-injecting
 * EC2 endpoint (which passes subnets, security groups, images, SSM and IAM through to moto server), the
 * real control plane schedules, a bridge registers each instance's node. For every fault of the matrix —
 * throttling, internal errors, connection resets, lost answers, slow answers, pools without capacity
 * (one zone, all spot, all but one pool) — while some allowed offering has capacity, no pod stays
 * pending past two batch windows (2 × the 10 s maximum batch), and no NodeClaim gets two instances.
 */
@WithCluster(schedulerConfig = "manifests/scheduler/local-extender.yaml")
class AwsFaultMatrixE2EIT {
  private static final Duration TWO_BATCH_WINDOWS = Duration.ofSeconds(20);
  private static AwsStack stack;
  private static FakeEc2 ec2;

  @BeforeAll
  static void start(KubernetesClient client) throws Exception {
    stack = AwsStack.start(client, "aws-faults", true);
    ec2 = stack.ec2.orElseThrow();
  }

  @AfterAll
  static void stop() throws Exception {
    if (stack != null) {
      stack.close();
    }
  }

  @Test
  void noPodStaysPendingPastTwoBatchWindowsUnderAnyFault(KubernetesClient client, TestNamespace ns) throws Exception {
    String label = Fixtures.unique("faults");
    AwsWorld.readyNodeClass(client, label);
    AwsStack.nodePool(client, label, "spot", "on-demand");

    // Transient faults first: the pool-capacity ones leave offerings marked unavailable for three minutes.
    Map<String, Consumer<FakeEc2>> matrix = new LinkedHashMap<>();
    matrix.put("RequestLimitExceeded x4 (CreateFleet, DescribeInstances)", f -> {
      f.faultsOn("CreateFleet", "DescribeInstances");
      f.throttleNext(4);
    });
    matrix.put("500 InternalError x4", f -> f.failNext(4));
    matrix.put("connection reset x2", f -> f.resetNext(2));
    matrix.put("answer lost after launching x2", f -> f.dropAnswerNext(2));
    matrix.put("every answer 2 s late", f -> f.delay(Duration.ofSeconds(2)));
    matrix.put("no spot capacity in us-east-1a", f -> f.noCapacity("*", "us-east-1a", "spot"));
    matrix.put("no spot capacity anywhere", f -> f.noCapacity("*", "*", "spot"));
    matrix.put("only on-demand in us-east-1b has capacity", f -> {
      f.noCapacity("*", "*", "spot");
      f.noCapacity("*", "us-east-1a", "*");
    });

    List<String> results = new ArrayList<>();
    int round = 0;
    for (Map.Entry<String, Consumer<FakeEc2>> fault : matrix.entrySet()) {
      ec2.clearFaults();
      ec2.faultsOn("CreateFleet");
      fault.getValue().accept(ec2);
      String app = "web-" + round++;
      long started = System.nanoTime();
      client.apps().deployments().resource(Fixtures.deployment(ns.name(), app, 3, "1500m", "1Gi", label)).create();
      await(fault.getKey()).atMost(TWO_BATCH_WINDOWS).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> assertThat(
          client.pods().inNamespace(ns.name()).withLabel("app", app).list().getItems()).as(() -> fault.getKey() + "\n" + ClusterDump.of(client, ns.name()))
          .hasSize(3).extracting(Pod::getStatus).extracting(s -> s.getPhase()).containsOnly("Running"));
      long ms = (System.nanoTime() - started) / 1_000_000;
      List<NodeClaim> claims = ProvisioningE2EIT.claimsOf(client, label);
      for (NodeClaim c : claims) {
        assertThat(ec2.liveFor(c.getMetadata().getName())).as(fault.getKey() + ": instances of " + c.getMetadata().getName()).hasSize(1);
      }
      if (fault.getKey().contains("spot")) {
        // Where spot had no capacity, nothing runs there.
        assertThat(ec2.instances().values()).filteredOn(i -> i.state().get().equals("running") && i.lifecycle().equals("spot"))
            .noneMatch(i -> fault.getKey().contains("anywhere") || fault.getKey().contains("only on-demand") || i.zone().equals("us-east-1a"));
      }
      results.add(String.format("%-58s all 3 pods Running after %,6d ms on %d claim(s), %d CreateFleet calls so far", fault.getKey(), ms, claims.size(),
          ec2.requests("CreateFleet").size()));

      // Clean slate for the next fault: the pods go, and so do their claims and instances.
      ec2.clearFaults();
      client.apps().deployments().inNamespace(ns.name()).withName(app).delete();
      claims.forEach(c -> client.resources(NodeClaim.class).withName(c.getMetadata().getName()).delete());
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
        assertThat(ProvisioningE2EIT.claimsOf(client, label)).isEmpty();
        assertThat(ec2.instances().values()).noneMatch(i -> i.state().get().equals("running"));
      });
    }
    System.out.println("EC2 fault matrix (two batch windows = " + TWO_BATCH_WINDOWS.toSeconds() + " s):\n  " + String.join("\n  ", results));
  }
}
