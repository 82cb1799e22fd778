package dev.dovetail.provisioner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.testkit.ControlPlane;
import dev.dovetail.testkit.RepoPaths;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithCluster;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The provisioner (the shipped jar, AWS provider, against moto) killed with SIGKILL at random moments
 * while it launches, over and over: every pod still ends up running, no NodeClaim ever gets a second
 * instance, and after the last restart no instance is left without a NodeClaim. Trials:
 * {@code -Ddovetail.crash.trials} (default 50).
 */
@WithCluster(schedulerConfig = "manifests/scheduler/local-extender.yaml")
class LaunchCrashE2EIT {
  private static final Path JAR = RepoPaths.root().resolve("provisioner/target/dovetail-provisioner.jar");
  private static final String CLUSTER = "crash-test";
  private static AwsWorld world;

  @BeforeAll
  static void start(KubernetesClient client) throws Exception {
    world = AwsWorld.start().bridge(client, CLUSTER);
  }

  @AfterAll
  static void stop() {
    if (world != null) {
      world.close();
    }
  }

  @Test
  void killingTheProvisionerMidLaunchNeverDoublesOrLeaksAnInstance(ControlPlane cp, KubernetesClient client, TestNamespace ns) throws Exception {
    int trials = Integer.getInteger("dovetail.crash.trials", 50);
    String label = Fixtures.unique("crash");
    client.resources(EC2NodeClass.class).resource(AwsWorld.nodeClass(label)).create();
    // One pod per node, so every new replica needs a launch.
    client.resources(NodePool.class).resource(Fixtures.nodePool(label, label, label, null, null,
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_CATEGORY, "c", "m"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_CPU, "2"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.ARCH, "amd64"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, "on-demand"))).create();
    client.apps().deployments().resource(Fixtures.deployment(ns.name(), "web", 0, "1200m", "1Gi", label)).create();

    Map<String, Integer> killedAfter = new HashMap<>();
    List<Path> logs = new java.util.ArrayList<>();
    for (int trial = 1; trial <= trials; trial++) {
      client.apps().deployments().inNamespace(ns.name()).withName("web").scale(trial);
      Process provisioner = start(cp, ns, "crash-" + trial, logs);
      // Somewhere between "still starting" and "launched and registering".
      int after = ThreadLocalRandom.current().nextInt(1500, 6000);
      Thread.sleep(after);
      provisioner.destroyForcibly().waitFor();
      killedAfter.merge(after / 1000 + "s", 1, Integer::sum);
      assertNoClaimHasTwoInstances();
    }
    System.out.printf("[crash] %d kills, by seconds after start: %s%n", trials, new java.util.TreeMap<>(killedAfter));

    // The last restart converges: every pod runs, each claim on its one instance, nothing orphaned.
    Process last = start(cp, ns, "final", logs);
    try {
      await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(2)).untilAsserted(() -> {
        assertThat(client.pods().inNamespace(ns.name()).list().getItems()).as(() -> ClusterDump.of(client, ns.name()))
            .hasSize(trials).extracting(Pod::getStatus).extracting(s -> s.getPhase()).containsOnly("Running");
        List<NodeClaim> claims = ProvisioningE2EIT.claimsOf(client, label);
        List<String[]> live = world.instances(CLUSTER).stream().filter(i -> !"terminated".equals(i[2])).toList();
        assertThat(live).extracting(i -> i[1]).containsExactlyInAnyOrderElementsOf(claims.stream().map(c -> c.getMetadata().getName()).toList());
      });
    } finally {
      last.destroyForcibly().waitFor();
    }
    assertNoClaimHasTwoInstances();
    List<String[]> all = world.instances(CLUSTER);
    long terminated = all.stream().filter(i -> "terminated".equals(i[2])).count();
    long launched = count(logs, "AwsCloudProvider launched i-");
    long adopted = count(logs, "adopting it");
    System.out.printf("[crash] %d trials: %d launches, %d instances adopted after a kill between launch and record, %d instances in all, "
        + "%d terminated, %d NodeClaims%n", trials, launched, adopted, all.size(), terminated, ProvisioningE2EIT.claimsOf(client, label).size());
  }

  private static long count(List<Path> logs, String text) throws IOException {
    long n = 0;
    for (Path log : logs) {
      n += Files.readAllLines(log).stream().filter(l -> l.contains(text)).count();
    }
    return n;
  }

  /** Never two instances, in any state, tagged for one NodeClaim. */
  private static void assertNoClaimHasTwoInstances() throws Exception {
    Map<String, Long> perClaim = world.instances(CLUSTER).stream().collect(Collectors.groupingBy(i -> i[1], Collectors.counting()));
    assertThat(perClaim).allSatisfy((claim, count) -> assertThat(count).as("instances for NodeClaim " + claim).isEqualTo(1L));
  }

  private static Process start(ControlPlane cp, TestNamespace ns, String identity, List<Path> logs) throws IOException {
    assertThat(JAR).as("the provisioner jar (built by mvn package)").exists();
    Path log = Files.createTempFile("provisioner-" + identity + "-", ".log");
    logs.add(log);
    String java = ProcessHandle.current().info().command().orElse("java");
    ProcessBuilder pb = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m", "-jar", JAR.toString(),
        "--kubeconfig=" + cp.kubeconfig(), "--namespace=" + ns.name(), "--cluster-name=" + CLUSTER, "--no-leader-elect",
        "--cloud-provider=aws", "--aws-region=us-east-1", "--aws-endpoint-url=" + world.moto.endpoint(),
        "--cluster-endpoint=https://api.crash.example", "--cluster-ca-bundle=Q0E=", "--garbage-collection-grace=20s",
        "--batch-idle-duration=300ms", "--sim-config-map=",
        "--metrics-port=" + freePort(), "--health-probe-port=" + freePort(), "--bind-address=127.0.0.1", "--log-format=text")
        .redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("AWS_ACCESS_KEY_ID", "testing");
    pb.environment().put("AWS_SECRET_ACCESS_KEY", "testing");
    return pb.start();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
