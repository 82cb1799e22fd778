package dev.dovetail.provisioner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.cloud.sim.SimCloudProvider;
import dev.dovetail.testkit.ControlPlane;
import dev.dovetail.testkit.Ports;
import dev.dovetail.testkit.RepoPaths;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithCluster;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two provisioner processes (the shipped jar) share one Lease. The leader is killed with SIGKILL while
 * its NodeClaims are launching, twice; the other takes over. However the work was cut, every pod ends up
 * Running, the standby never launched while it was not leading, and each NodeClaim has exactly one node
 * (no double launch, no orphan, no empty node).
 */
@WithCluster(schedulerConfig = "manifests/scheduler/local-extender.yaml")
class LeaderElectionE2EIT {
  private static final Path JAR = RepoPaths.root().resolve("provisioner/target/dovetail-provisioner.jar");
  private final List<Replica> replicas = new ArrayList<>();

  /** One provisioner process and the file its output goes to. */
  private record Replica(String identity, Process process, Path log) {
    String output() {
      try {
        return Files.readString(log);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  @AfterEach
  void stopReplicas() {
    replicas.forEach(r -> r.process().destroyForcibly());
  }

  @Test
  void aKilledLeaderNeverCausesADoubleLaunch(ControlPlane cp, KubernetesClient client, TestNamespace ns) throws Exception {
    String label = Fixtures.unique("lease");
    String lease = label;
    client.resources(EC2NodeClass.class).resource(Fixtures.nodeClass(label)).create();
    client.resources(NodePool.class).resource(Fixtures.nodePool(label, label, label, null, null,
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_CATEGORY, "c", "m"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_CPU, "2", "4"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, "on-demand"))).create();

    Replica leader = start(cp, ns, lease, "a");
    await().atMost(Duration.ofSeconds(60)).until(() -> "a".equals(holder(client, ns, lease)));
    Replica standby = startStandby(cp, ns, lease, "b");

    int replicasWanted = 0;
    int round = 0;
    for (String next : List.of("c", "d")) {
      round++;
      replicasWanted += 12;
      int claimsBefore = claims(client, label).size();
      if (round == 1) {
        client.apps().deployments().resource(Fixtures.deployment(ns.name(), "web", replicasWanted, "900m", "1Gi", label)).create();
      } else {
        client.apps().deployments().inNamespace(ns.name()).withName("web").scale(replicasWanted);
      }
      // Kill the leader as soon as its first NodeClaim of this round exists: launches are in flight (each takes 1 s).
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> claims(client, label).size() > claimsBefore);
      assertThat(standby.output()).as("the standby created NodeClaims while it was not leading").doesNotContain("created NodeClaim");
      leader.process().destroyForcibly().waitFor();
      String takeover = standby.identity();
      await().atMost(Duration.ofSeconds(30)).until(() -> takeover.equals(holder(client, ns, lease)));
      System.out.printf("[lease] round %d: killed leader %s after %d NodeClaims of this round existed; %s took over%n", round,
          leader.identity(), claims(client, label).size() - claimsBefore, takeover);
      // The killed replica comes back (as a restarted pod would) as the new standby.
      leader = standby;
      standby = startStandby(cp, ns, lease, next);
    }

    int wanted = replicasWanted;
    await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(2)).untilAsserted(() -> assertThat(
        client.pods().inNamespace(ns.name()).list().getItems()).as(() -> ClusterDump.of(client, ns.name()))
        .hasSize(wanted).extracting(p -> p.getStatus().getPhase()).containsOnly("Running"));
    // Settled: every claim has launched, registered and initialized, once.
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(claims(client, label))
        .allSatisfy(c -> assertThat(c.getStatus().nodeName()).as(c.getMetadata().getName()).isNotBlank()));

    List<NodeClaim> claims = claims(client, label);
    List<Node> nodes = client.nodes().withLabel(Fixtures.TEST_LABEL, label).list().getItems();
    Set<String> claimNames = claims.stream().map(c -> c.getMetadata().getName()).collect(Collectors.toSet());
    Map<String, List<Node>> nodesPerClaim = nodes.stream().collect(Collectors.groupingBy(
        n -> n.getMetadata().getAnnotations().getOrDefault(SimCloudProvider.NODECLAIM_ANNOTATION, "")));
    assertThat(nodesPerClaim.keySet()).as("every node belongs to an existing NodeClaim").isEqualTo(claimNames);
    assertThat(nodesPerClaim).as("one node per NodeClaim").allSatisfy((claim, its) -> assertThat(its).hasSize(1));
    assertThat(claims).extracting(c -> c.getStatus().providerID()).doesNotHaveDuplicates()
        .containsExactlyInAnyOrderElementsOf(nodes.stream().map(n -> n.getSpec().getProviderID()).toList());
    Set<String> used = new HashSet<>(client.pods().inNamespace(ns.name()).list().getItems().stream()
        .map(p -> p.getSpec().getNodeName()).toList());
    assertThat(nodes).as("no node was launched for pods another launch already covered")
        .allSatisfy(n -> assertThat(used).contains(n.getMetadata().getName()));
    System.out.printf("[lease] %d pods Running on %d nodes of %d NodeClaims after two leader kills%n", wanted, nodes.size(), claims.size());
  }

  private static List<NodeClaim> claims(KubernetesClient client, String pool) {
    return ProvisioningE2EIT.claimsOf(client, pool);
  }

  private static String holder(KubernetesClient client, TestNamespace ns, String lease) {
    Lease l = client.resources(Lease.class).inNamespace(ns.name()).withName(lease).get();
    return l == null || l.getSpec() == null ? null : l.getSpec().getHolderIdentity();
  }

  private Replica startStandby(ControlPlane cp, TestNamespace ns, String lease, String identity) throws IOException {
    Replica r = start(cp, ns, lease, identity);
    await().atMost(Duration.ofSeconds(30)).until(() -> r.output().contains("dovetail-provisioner"));
    return r;
  }

  private Replica start(ControlPlane cp, TestNamespace ns, String lease, String identity) throws IOException {
    assertThat(JAR).as("the provisioner jar (built by mvn package)").exists();
    // Under target/, kept with the reports (not piling up in /tmp run after run).
    Path log = Files.createTempFile(Files.createDirectories(JAR.resolveSibling("process-logs")), "provisioner-" + identity + "-", ".log");
    String java = ProcessHandle.current().info().command().orElse("java");
    ProcessBuilder pb = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-Xmx256m", "-jar", JAR.toString(),
        "--kubeconfig=" + cp.kubeconfig(), "--namespace=" + ns.name(), "--cluster-name=lease-test",
        "--leader-elect", "--leader-election-lease=" + lease, "--leader-election-identity=" + identity,
        "--leader-election-lease-duration=3s", "--leader-election-renew-deadline=2s", "--leader-election-retry-period=500ms",
        "--sim-launch-latency=1s", "--sim-boot-delay=1s", "--sim-config-map=",
        "--metrics-port=" + Ports.free(), "--health-probe-port=" + Ports.free(), "--bind-address=127.0.0.1", "--log-format=text")
        .redirectErrorStream(true).redirectOutput(log.toFile());
    Replica r = new Replica(identity, pb.start(), log);
    replicas.add(r);
    return r;
  }

}
