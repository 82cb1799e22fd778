package dev.dovetail.interruption;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.interruption.NodeMarks;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.interruption.imds.NoticeReader;
import dev.dovetail.interruption.imds.Notices;
import dev.dovetail.interruption.kube.Events;
import dev.dovetail.interruption.kube.KubeApi;
import dev.dovetail.interruption.kube.KubeConfig;
import dev.dovetail.runtime.events.EventRecorder;
import dev.dovetail.testkit.ControlPlane;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithApiServer;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/**
 * After a spot interruption notice, the agent's drain waits for the provisioner's replacement while the
 * node's pods keep running: it evicts once the NodeClaim says {@code dovetail.dev/replacement-ready}, or,
 * with no replacement ready, at the latest start ({@code --eviction-lead} before the drain's deadline).
 * Against a real kube-apiserver; the notice is handed to the agent as its IMDS reader would.
 */
@WithApiServer
class DrainHoldApiTest {
  private static final Duration MARGIN = Duration.ofSeconds(15);
  private static final Duration LEAD = Duration.ofSeconds(45);

  /** A node with its NodeClaim and one running pod, and an agent for the node whose API calls are recorded. */
  private record World(String node, RecordingHttpClient http, Agent agent) {
  }

  private static World world(ControlPlane cp, KubernetesClient client, TestNamespace ns) {
    String node = "hold-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
    client.nodes().resource(InterruptionE2EIT.node(node, "p")).create();
    InterruptionE2EIT.claim(client, node, node);
    client.pods().inNamespace(ns.name()).resource(new PodBuilder().withNewMetadata().withName(node + "-web").endMetadata().withNewSpec()
        .withNodeName(node).addNewContainer().withName("c").withImage("registry.k8s.io/pause:3.10").endContainer().endSpec().build()).create();
    var running = client.pods().inNamespace(ns.name()).withName(node + "-web").get();
    running.setStatus(new PodStatusBuilder().withPhase("Running").addNewCondition().withType("Ready").withStatus("True").endCondition().build());
    client.pods().inNamespace(ns.name()).resource(running).updateStatus();

    Clock clock = Clock.systemUTC();
    KubeConfig config = KubeConfig.fromKubeconfig(cp.kubeconfig(), clock);
    RecordingHttpClient http = new RecordingHttpClient(KubeApi.httpClient(config, Duration.ofSeconds(10), null));
    KubeApi api = KubeApi.on(http, config, Duration.ofSeconds(10));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    // The reader is never asked: the test hands the agent its observations.
    NoticeReader unused = new NoticeReader(null, clock);
    Agent agent = new Agent(unused, new NodeActions(api, node), new Drainer(api, node, clock),
        new EventRecorder(new Events(api), "dovetail-interrupt-listener", clock, node, registry, Events.QUEUE),
        new Agent.Settings(node, Duration.ofSeconds(1), Agent.RebalanceAction.taint, MARGIN, Duration.ofMinutes(10), LEAD), registry, clock);
    return new World(node, http, agent);
  }

  private static NoticeReader.Observation spotNotice(Instant time) {
    return new NoticeReader.Observation(Instant.now(), true, Optional.of(new Notices.SpotInterruption("terminate", time)), Optional.empty(),
        List.of(), List.of());
  }

  private static List<RecordingHttpClient.Exchange> evictions(World w) {
    return w.http().exchanges().stream().filter(e -> e.method().equals("POST") && e.path().endsWith("/eviction")).toList();
  }

  private static boolean terminating(KubernetesClient client, TestNamespace ns, World w) {
    var pod = client.pods().inNamespace(ns.name()).withName(w.node() + "-web").get();
    return pod == null || pod.getMetadata().getDeletionTimestamp() != null;
  }

  @Test
  void thePodsKeepRunningUntilTheClaimSaysTheirReplacementIsReady(ControlPlane cp, KubernetesClient client, TestNamespace ns) {
    World w = world(cp, client, ns);
    try (Agent agent = w.agent()) {
      // The instance goes in ten minutes: the latest start is far off, so only the replacement can end the hold.
      agent.handle(spotNotice(Instant.now().plus(Duration.ofMinutes(10))));
      String claimPath = NodeActions.NODE_CLAIMS + "/" + w.node();
      // Three rounds of the drain have looked at the claim and found no replacement ready.
      await().atMost(Duration.ofSeconds(20)).until(() -> w.http().exchanges().stream()
          .filter(e -> e.method().equals("GET") && e.path().equals(claimPath)).count() >= 3);
      assertThat(evictions(w)).as("evictions while the replacement is not ready").isEmpty();
      assertThat(terminating(client, ns, w)).isFalse();

      client.resources(NodeClaim.class).withName(w.node()).patch(PatchContext.of(PatchType.JSON_MERGE),
          Serialization.asJson(NodeMarks.replacementReadyPatch(Instant.now())));
      await().atMost(Duration.ofSeconds(20)).until(() -> terminating(client, ns, w));
      assertThat(evictions(w)).as("the pod evicted through the Eviction API").isNotEmpty().allSatisfy(e -> assertThat(e.status()).isEqualTo(201));
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(client.v1().events().inNamespace("default").list().getItems())
          .filteredOn(e -> w.node().equals(e.getInvolvedObject().getName()) && "DrainStarted".equals(e.getReason()))
          .singleElement().satisfies(e -> assertThat(e.getMessage()).contains("Ready room elsewhere", w.node())));
    }
  }

  @Test
  void withoutAReplacementTheEvictionsStartAtTheLatestStart(ControlPlane cp, KubernetesClient client, TestNamespace ns) {
    World w = world(cp, client, ns);
    try (Agent agent = w.agent()) {
      // The latest start, the lead before the drain's deadline (the pod's default 30 s grace plus 10 s is less), is 4 s away.
      Instant time = Instant.now().plus(MARGIN).plus(LEAD).plusSeconds(4);
      Instant latestStart = time.minus(MARGIN).minus(LEAD);
      long nanosAtLatestStart = System.nanoTime() + Duration.between(Instant.now(), latestStart).toNanos();
      agent.handle(spotNotice(time));
      await().atMost(Duration.ofSeconds(30)).until(() -> terminating(client, ns, w));
      assertThat(evictions(w)).as("evictions, each answered after the latest start").isNotEmpty()
          .allSatisfy(e -> assertThat(e.answeredAtNanos()).isGreaterThanOrEqualTo(nanosAtLatestStart));
      assertThat(client.resources(NodeClaim.class).withName(w.node()).get().getMetadata().getAnnotations())
          .containsKey(DovetailLabels.INTERRUPTION).doesNotContainKey(DovetailLabels.REPLACEMENT_READY);
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(client.v1().events().inNamespace("default").list().getItems())
          .filteredOn(e -> w.node().equals(e.getInvolvedObject().getName()) && "DrainStarted".equals(e.getReason()))
          .singleElement().satisfies(e -> assertThat(e.getMessage()).contains("without a replacement ready")));
    }
  }
}
