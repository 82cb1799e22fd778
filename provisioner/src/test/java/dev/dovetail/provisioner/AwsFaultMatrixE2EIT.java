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
import java.util.function.Predicate;
import java.util.stream.Collectors;
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
 * The fake's call log shows each fault fired as set (every shot of a transport fault taken, a pool
 * reported without capacity, every call late) and what got past it: the same call answered on a retry,
 * the lost answer's instance the one its claim runs on, a later CreateFleet for the claim launching.
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

  /** What the calls of a round must show: the round's calls, its claims, and the first call that came after the fault was set. */
  private interface Check {
    void accept(List<FakeEc2.Call> calls, List<NodeClaim> claims, long setBefore);
  }

  /** A fault of the matrix: how it is set on the fake, and what the calls of its round must show. */
  private record Fault(Consumer<FakeEc2> set, Check firedAndRetried) {
  }

  @Test
  void noPodStaysPendingPastTwoBatchWindowsUnderAnyFault(KubernetesClient client, TestNamespace ns) throws Exception {
    String label = Fixtures.unique("faults");
    AwsWorld.readyNodeClass(client, label);
    AwsStack.nodePool(client, label, "spot", "on-demand");

    // Transient faults first: the pool-capacity ones leave offerings marked unavailable for three minutes.
    Map<String, Fault> matrix = new LinkedHashMap<>();
    matrix.put("RequestLimitExceeded x4 (CreateFleet, DescribeInstances)", new Fault(f -> {
      f.faultsOn("CreateFleet", "DescribeInstances");
      f.throttleNext(4);
    }, (calls, claims, set) -> transportFault(calls, claims, FakeEc2.Fault.THROTTLED, 4)));
    matrix.put("500 InternalError x4", new Fault(f -> f.failNext(4),
        (calls, claims, set) -> transportFault(calls, claims, FakeEc2.Fault.INTERNAL_ERROR, 4)));
    matrix.put("connection reset x2", new Fault(f -> f.resetNext(2),
        (calls, claims, set) -> transportFault(calls, claims, FakeEc2.Fault.CONNECTION_RESET, 2)));
    matrix.put("answer lost after launching x2", new Fault(f -> f.dropAnswerNext(2),
        (calls, claims, set) -> transportFault(calls, claims, FakeEc2.Fault.ANSWER_LOST, 2)));
    matrix.put("every answer 2 s late", new Fault(f -> f.delay(Duration.ofSeconds(2)), (calls, claims, set) -> {
      // Every EC2 and IAM call that came once the delay was set waited, among them the CreateFleet of every claim, which launched
      // nonetheless. (SSM and Pricing calls are forwarded untouched; an EC2NodeClass refresh may make one in the round.)
      assertThat(calls).filteredOn(c -> c.seq() >= set && !c.forwarded()).isNotEmpty()
          .allSatisfy(c -> assertThat(c.delayed()).isEqualTo(Duration.ofSeconds(2)));
      for (NodeClaim claim : claims) {
        assertThat(fleetCalls(calls, claim)).as("CreateFleet calls for " + claim.getMetadata().getName())
            .anySatisfy(c -> assertThat(c.launched()).isNotEmpty());
      }
    }));
    matrix.put("no spot capacity in us-east-1a", new Fault(f -> f.noCapacity("*", "us-east-1a", "spot"),
        (calls, claims, set) -> capacityFault(calls, claims, e -> e.contains("/us-east-1a/spot: "))));
    matrix.put("no spot capacity anywhere", new Fault(f -> f.noCapacity("*", "*", "spot"),
        (calls, claims, set) -> capacityFault(calls, claims, e -> e.contains("/spot: "))));
    matrix.put("only on-demand in us-east-1b has capacity", new Fault(f -> {
      f.noCapacity("*", "*", "spot");
      f.noCapacity("*", "us-east-1a", "*");
    }, (calls, claims, set) -> capacityFault(calls, claims, e -> e.contains("/spot: ") || e.contains("/us-east-1a/"))));

    List<String> results = new ArrayList<>();
    int round = 0;
    for (Map.Entry<String, Fault> fault : matrix.entrySet()) {
      ec2.clearFaults();
      ec2.faultsOn("CreateFleet");
      long firstCall = ec2.nextSeq();
      fault.getValue().set().accept(ec2);
      long setBefore = ec2.nextSeq();
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
      // The fault fired as set, and the provisioner got past it: the round's calls say how.
      List<FakeEc2.Call> calls = ec2.calls().stream().filter(c -> c.seq() >= firstCall).toList();
      assertThat(calls).as(fault.getKey() + ": the calls of the round").isNotEmpty();
      try {
        fault.getValue().firedAndRetried().accept(calls, claims, setBefore);
      } catch (AssertionError e) {
        throw new AssertionError(fault.getKey() + ": " + e.getMessage() + "\ncalls of the round:\n  "
            + calls.stream().map(Object::toString).collect(Collectors.joining("\n  ")), e);
      }
      long faulted = calls.stream().filter(c -> c.fault() != FakeEc2.Fault.NONE || !c.poolErrors().isEmpty() || !c.delayed().isZero()).count();
      results.add(String.format("%-58s all 3 pods Running after %,6d ms on %d claim(s); %d of %d calls met the fault, %d CreateFleet calls so far",
          fault.getKey(), ms, claims.size(), faulted, calls.size(), ec2.requests("CreateFleet").size()));

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

  private static List<FakeEc2.Call> fleetCalls(List<FakeEc2.Call> calls, NodeClaim claim) {
    return calls.stream().filter(c -> "CreateFleet".equals(c.action()) && claim.getMetadata().getName().equals(c.claim())).toList();
  }

  /**
   * Every shot set fired ({@code shots} calls of the round got the fault, none is left), and each was
   * retried: later calls asking the same (same client token; each instance or NodeClaim looked up, alone or
   * in another batch) were answered. A lost answer had launched an instance: that instance is its claim's, found again by the
   * token or by the claim's tag, and no other was launched for it.
   */
  private static void transportFault(List<FakeEc2.Call> calls, List<NodeClaim> claims, FakeEc2.Fault fault, int shots) {
    List<FakeEc2.Call> faulted = calls.stream().filter(c -> c.fault() == fault).toList();
    assertThat(faulted).as("calls that got " + fault).hasSize(shots);
    assertThat(ec2.faultsNotFired()).as("fault shots left").isZero();
    for (FakeEc2.Call f : faulted) {
      if (fault == FakeEc2.Fault.ANSWER_LOST) {
        assertThat(f.launched()).as("what the lost answer launched").hasSize(1);
        NodeClaim claim = claims.stream().filter(c -> c.getMetadata().getName().equals(f.claim())).findFirst().orElseThrow(() -> new AssertionError(
            "the claim " + f.claim() + " of a lost answer is gone"));
        assertThat(claim.getStatus().providerID()).as("the instance of " + f.claim()).endsWith("/" + f.launched().get(0));
      } else {
        assertThat(ec2.retriesOf(f)).as("the retries of " + f).isNotEmpty();
      }
    }
  }

  /**
   * Some CreateFleet of the round reported pools without capacity, all of them pools the fault covers
   * ({@code covered} accepts each {@code type/zone/lifecycle: code}); a claim whose call launched nothing
   * launched on a later call.
   */
  private static void capacityFault(List<FakeEc2.Call> calls, List<NodeClaim> claims, Predicate<String> covered) {
    List<FakeEc2.Call> fleets = calls.stream().filter(c -> "CreateFleet".equals(c.action())).toList();
    List<FakeEc2.Call> failedPools = fleets.stream().filter(c -> !c.poolErrors().isEmpty()).toList();
    assertThat(failedPools).as("CreateFleet calls that met the fault").isNotEmpty()
        .allSatisfy(c -> assertThat(c.poolErrors()).allSatisfy(e -> assertThat(e).matches(covered::test, "a pool the fault covers")
            .endsWith(": InsufficientInstanceCapacity")));
    for (FakeEc2.Call f : failedPools.stream().filter(c -> c.launched().isEmpty()).toList()) {
      assertThat(fleets).as("a later CreateFleet for " + f.claim() + " that launched")
          .anySatisfy(c -> {
            assertThat(c.seq()).isGreaterThan(f.seq());
            assertThat(c.claim()).isEqualTo(f.claim());
            assertThat(c.launched()).isNotEmpty();
          });
    }
  }
}
