package dev.dovetail.interruption;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeClaimSpec;
import dev.dovetail.api.karpenter.v1.NodeClaimStatus;
import dev.dovetail.api.karpenter.v1.NodeClassReference;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.interruption.imds.Imds;
import dev.dovetail.interruption.imds.NoticeReader;
import dev.dovetail.interruption.kube.Events;
import dev.dovetail.interruption.kube.KubeApi;
import dev.dovetail.interruption.kube.KubeConfig;
import dev.dovetail.runtime.events.EventRecorder;
import dev.dovetail.testkit.ControlPlane;
import dev.dovetail.testkit.MetadataMock;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithCluster;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The agent against a real control plane and amazon-ec2-metadata-mock: a spot node (kwok) running a
 * Deployment behind a PodDisruptionBudget, a second node for the replacements, and a spot interruption
 * notice three seconds in. The node must be tainted and cordoned within two seconds of the notice, its
 * NodeClaim marked, and its pods moved through evictions the budget allows.
 */
@WithCluster
class InterruptionE2EIT {
  static final String POOL = "dovetail.dev/test-pool";

  static Node node(String name, String pool) {
    return new NodeBuilder().withNewMetadata().withName(name).addToLabels(POOL, pool).addToLabels(WellKnownLabels.CAPACITY_TYPE, "spot")
        .addToLabels("kubernetes.io/hostname", name).addToAnnotations("kwok.x-k8s.io/node", "fake").endMetadata()
        .withNewSpec().withProviderID("aws:///us-east-1a/i-" + name).endSpec()
        .withNewStatus()
        .addToCapacity("cpu", new Quantity("4")).addToCapacity("memory", new Quantity("16Gi")).addToCapacity("pods", new Quantity("110"))
        .addToAllocatable("cpu", new Quantity("4")).addToAllocatable("memory", new Quantity("16Gi")).addToAllocatable("pods", new Quantity("110"))
        .endStatus().build();
  }

  /** The agent as the DaemonSet wires it, on its own API client from the cluster's kubeconfig. */
  static Agent agent(java.nio.file.Path kubeconfig, URI imds, String nodeName) {
    Clock clock = Clock.systemUTC();
    KubeApi api = KubeApi.connect(KubeConfig.fromKubeconfig(kubeconfig, clock), Duration.ofSeconds(10));
    NoticeReader reader = new NoticeReader(new Imds(HttpClient.newHttpClient(), imds, Duration.ofMinutes(10), Duration.ofSeconds(2), clock), clock);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    return new Agent(reader, new NodeActions(api, nodeName), new Drainer(api, nodeName, clock),
        new EventRecorder(new Events(api), "dovetail-interrupt-listener", clock, nodeName, registry, Events.QUEUE),
        new Agent.Settings(nodeName, Duration.ofSeconds(1), Agent.RebalanceAction.taint, Duration.ofSeconds(15), Duration.ofMinutes(10)),
        registry, clock);
  }

  @Test
  void aSpotNoticeTaintsWithinTwoSecondsAndDrainsWithinTheBudget(KubernetesClient client, ControlPlane cp, TestNamespace ns) throws Exception {
    String pool = "int-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
    String doomed = pool + "-spot";
    String spare = pool + "-spare";
    client.nodes().resource(node(doomed, pool)).create();
    NodeClaim claim = new NodeClaim();
    claim.setMetadata(new ObjectMetaBuilder().withName(doomed).build());
    claim.setSpec(new NodeClaimSpec(null, null, List.of(NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, "spot")), null,
        NodeClassReference.ec2NodeClass("default"), null, null));
    client.resources(NodeClaim.class).resource(claim).create();
    NodeClaim created = client.resources(NodeClaim.class).withName(doomed).get();
    created.setStatus(new NodeClaimStatus(doomed, "aws:///us-east-1a/i-" + doomed, null, null, null, null, null));
    client.resources(NodeClaim.class).resource(created).updateStatus();

    client.apps().deployments().resource(new DeploymentBuilder().withNewMetadata().withName("web").withNamespace(ns.name()).endMetadata()
        .withNewSpec().withReplicas(4).withNewSelector().addToMatchLabels("app", "web").endSelector()
        .withNewTemplate().withNewMetadata().addToLabels("app", "web").endMetadata()
        .withNewSpec().addToNodeSelector(POOL, pool).withTerminationGracePeriodSeconds(0L)
        .addNewContainer().withName("app").withImage("registry.k8s.io/pause:3.10").withNewResources()
        .addToRequests("cpu", new Quantity("100m")).endResources().endContainer().endSpec().endTemplate().endSpec().build()).create();
    client.policy().v1().podDisruptionBudget().resource(new PodDisruptionBudgetBuilder().withNewMetadata().withName("web")
        .withNamespace(ns.name()).endMetadata().withNewSpec().withMinAvailable(new io.fabric8.kubernetes.api.model.IntOrString(3))
        .withNewSelector().addToMatchLabels("app", "web").endSelector().endSpec().build()).create();
    await().atMost(Duration.ofMinutes(1)).untilAsserted(() -> assertThat(client.pods().inNamespace(ns.name()).list().getItems())
        .hasSize(4).allSatisfy(p -> assertThat(p.getStatus().getPhase()).isEqualTo("Running")));
    client.nodes().resource(node(spare, pool)).create();

    // The mock counts its delay from its own start, which comes after this instant: the latency measured
    // from here is an upper bound.
    long noticeAt = System.nanoTime() + 3_000_000_000L;
    try (MetadataMock imds = MetadataMock.start("spot", "--mock-delay-sec", "3", "--action", "terminate");
        Agent agent = agent(cp.kubeconfig(), imds.endpoint(), doomed).start()) {
      await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(50)).until(() -> {
        Node n = client.nodes().withName(doomed).get();
        return Boolean.TRUE.equals(n.getSpec().getUnschedulable()) && n.getSpec().getTaints() != null
            && n.getSpec().getTaints().stream().anyMatch(t -> WellKnownLabels.DISRUPTED_TAINT.equals(t.getKey()));
      });
      double secondsAfterNotice = (System.nanoTime() - noticeAt) / 1e9;
      System.out.printf("[interruption] node tainted and cordoned at most %.2f s after the notice appeared%n", secondsAfterNotice);
      assertThat(secondsAfterNotice).isLessThanOrEqualTo(2.0);
      Node tainted = client.nodes().withName(doomed).get();
      assertThat(tainted.getSpec().getTaints()).anySatisfy(t -> {
        assertThat(t.getKey()).isEqualTo(NodeActions.INTERRUPTION_TAINT);
        assertThat(t.getValue()).isEqualTo("terminate");
        assertThat(t.getEffect()).isEqualTo("NoSchedule");
      });
      // The NodeClaim is marked right after (a rebalance recommendation the mock also publishes never overrides it).
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(
          client.resources(NodeClaim.class).withName(doomed).get().getMetadata().getAnnotations())
          .hasEntrySatisfying(NodeActions.INTERRUPTION_ANNOTATION, v -> assertThat(v).startsWith("spot-interruption@")));

      // Drained through evictions: every replica ends up on the spare node, the budget held the pace.
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
        List<Pod> pods = client.pods().inNamespace(ns.name()).list().getItems();
        assertThat(pods).hasSize(4).allSatisfy(p -> {
          assertThat(p.getSpec().getNodeName()).isEqualTo(spare);
          assertThat(p.getStatus().getPhase()).isEqualTo("Running");
        });
      });
      Map<String, Long> reasons = client.v1().events().inNamespace("default").list().getItems().stream()
          .filter(e -> doomed.equals(e.getInvolvedObject().getName())).collect(Collectors.groupingBy(e -> e.getReason(), Collectors.counting()));
      assertThat(reasons).containsKeys("SpotInterrupted");
      assertThat(agent.imdsReachable()).isTrue();
    }
  }

  @Test
  void anUnreachableMetadataServiceLeavesTheAgentRunningAndNotReady(ControlPlane cp) throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    try (Agent agent = agent(cp.kubeconfig(), URI.create("http://127.0.0.1:" + closed), "no-such-node").start()) {
      Thread.sleep(3000);
      assertThat(agent.imdsReachable()).isFalse();
      assertThat(agent.notReady()).hasValueSatisfying(reason -> assertThat(reason).contains("IMDS has not answered"));
    }
  }
}
