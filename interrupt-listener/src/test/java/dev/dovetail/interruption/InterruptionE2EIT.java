package dev.dovetail.interruption;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dovetail.api.interruption.NodeMarks;
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
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodList;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The agent against a real control plane and amazon-ec2-metadata-mock: a spot node (kwok) running a
 * Deployment behind a PodDisruptionBudget and a spot interruption notice a few seconds in. The node must be
 * tainted and cordoned within two seconds of the notice becoming visible in IMDS and its NodeClaim marked. Its
 * pods move through evictions the budget paces: with no node for the replacements at first, the API server
 * refuses evictions (429) while the budget is at zero; once a spare node comes, the drain finishes, and ready
 * replicas never drop below the budget's minimum.
 */
@WithCluster
class InterruptionE2EIT {
  static final String POOL = "dovetail.dev/test-pool";
  static final int REPLICAS = 4;
  static final int MIN_AVAILABLE = 3;
  /** How long after the notice appears in IMDS the node must be tainted and cordoned. */
  static final Duration TAINT_DEADLINE = Duration.ofSeconds(2);

  static Node node(String name, String pool) {
    return new NodeBuilder().withNewMetadata().withName(name).addToLabels(POOL, pool).addToLabels(WellKnownLabels.CAPACITY_TYPE, "spot")
        .addToLabels("kubernetes.io/hostname", name).addToAnnotations("kwok.x-k8s.io/node", "fake").endMetadata()
        .withNewSpec().withProviderID("aws:///us-east-1a/i-" + name).endSpec()
        .withNewStatus()
        .addToCapacity("cpu", new Quantity("4")).addToCapacity("memory", new Quantity("16Gi")).addToCapacity("pods", new Quantity("110"))
        .addToAllocatable("cpu", new Quantity("4")).addToAllocatable("memory", new Quantity("16Gi")).addToAllocatable("pods", new Quantity("110"))
        .endStatus().build();
  }

  /**
   * A spot NodeClaim named after the test node {@code name} (from {@link #node}), with its provider ID and, when
   * {@code nodeName} is not null, the node's name in its status, as the provisioner records them.
   */
  static void claim(KubernetesClient client, String name, String nodeName) {
    NodeClaim claim = new NodeClaim();
    claim.setMetadata(new ObjectMetaBuilder().withName(name).build());
    claim.setSpec(new NodeClaimSpec(null, null, List.of(NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, "spot")), null,
        NodeClassReference.ec2NodeClass("default"), null, null));
    client.resources(NodeClaim.class).resource(claim).create();
    NodeClaim created = client.resources(NodeClaim.class).withName(name).get();
    created.setStatus(new NodeClaimStatus(nodeName, "aws:///us-east-1a/i-" + name, null, null, null, null, null));
    client.resources(NodeClaim.class).resource(created).updateStatus();
  }

  /** The agent as the DaemonSet wires it, on its own API client from the cluster's kubeconfig. */
  static Agent agent(Path kubeconfig, URI imds, String nodeName) {
    KubeConfig config = KubeConfig.fromKubeconfig(kubeconfig, Clock.systemUTC());
    return agent(config, KubeApi.httpClient(config, Duration.ofSeconds(10), null), imds, nodeName);
  }

  /** The agent as the DaemonSet wires it, its API traffic through {@code http} (which must carry the kubeconfig's TLS context). */
  static Agent agent(KubeConfig config, HttpClient http, URI imds, String nodeName) {
    Clock clock = Clock.systemUTC();
    KubeApi api = KubeApi.on(http, config, Duration.ofSeconds(10));
    NoticeReader reader = new NoticeReader(new Imds(HttpClient.newHttpClient(), imds, Duration.ofMinutes(10), Duration.ofSeconds(2), clock), clock);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    return new Agent(reader, new NodeActions(api, nodeName), new Drainer(api, nodeName, clock),
        new EventRecorder(new Events(api), "dovetail-interrupt-listener", clock, nodeName, registry, Events.QUEUE),
        new Agent.Settings(nodeName, Duration.ofSeconds(1), Agent.RebalanceAction.taint, Duration.ofSeconds(15), Duration.ofMinutes(10),
            Duration.ofSeconds(45)),
        registry, clock);
  }

  static KubeConfig kubeConfig(ControlPlane cp) {
    return KubeConfig.fromKubeconfig(cp.kubeconfig(), Clock.systemUTC());
  }

  static boolean ready(Pod p) {
    return p.getMetadata().getDeletionTimestamp() == null && p.getStatus() != null && p.getStatus().getConditions() != null
        && p.getStatus().getConditions().stream().anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  static boolean taintedAndCordoned(Node n) {
    return Boolean.TRUE.equals(n.getSpec().getUnschedulable()) && n.getSpec().getTaints() != null
        && n.getSpec().getTaints().stream().anyMatch(t -> WellKnownLabels.DISRUPTED_TAINT.equals(t.getKey()));
  }

  /**
   * Ready replicas over time, from a watch that starts at the listed resource version, so it sees every change
   * in the order the API server made it; keeps the lowest count seen. Ready as the disruption controller counts
   * healthy: the Ready condition true and not terminating.
   */
  static final class Availability implements Watcher<Pod> {
    private final Map<String, Boolean> readyByUid = new HashMap<>();
    private int lowest;
    private volatile WatcherException failure;

    Availability(List<Pod> initial) {
      initial.forEach(p -> readyByUid.put(p.getMetadata().getUid(), ready(p)));
      lowest = count();
    }

    private int count() {
      return (int) readyByUid.values().stream().filter(Boolean::booleanValue).count();
    }

    @Override
    public synchronized void eventReceived(Action action, Pod pod) {
      if (action == Action.DELETED) {
        readyByUid.remove(pod.getMetadata().getUid());
      } else if (action == Action.ADDED || action == Action.MODIFIED) {
        readyByUid.put(pod.getMetadata().getUid(), ready(pod));
      }
      lowest = Math.min(lowest, count());
    }

    @Override
    public void onClose(WatcherException cause) {
      failure = cause;
    }

    synchronized int lowest() {
      if (failure != null) {
        throw new IllegalStateException("the availability watch broke, so its minimum proves nothing", failure);
      }
      return lowest;
    }
  }

  /**
   * The test's own IMDSv2 reader of the spot notice path, to see when the mock starts serving the notice: the
   * notice became visible after the last look that did not see it. amazon-ec2-metadata-mock keeps its tokens in a
   * map without a lock, and a token request at the same time as any other request can crash it ("concurrent map
   * writes"): the probe takes its token before the agent starts, and looks again only once the agent has its own.
   */
  static final class NoticeProbe implements AutoCloseable {
    private final HttpClient http = HttpClient.newHttpClient();
    private final URI endpoint;
    private final String token;
    private long lastAbsentSentAt;
    private int absent;

    NoticeProbe(URI endpoint) throws Exception {
      this.endpoint = endpoint;
      HttpResponse<String> t = http.send(HttpRequest.newBuilder(endpoint.resolve("/latest/api/token"))
          .header("X-aws-ec2-metadata-token-ttl-seconds", "600").PUT(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(t.statusCode()).as("IMDSv2 token").isEqualTo(200);
      this.token = t.body().strip();
    }

    /** One look: whether the notice is served; a look that does not see it moves the last time it was surely absent. */
    boolean noticeVisible() throws Exception {
      long sent = System.nanoTime();
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(endpoint.resolve("/latest/meta-data/spot/instance-action"))
          .header("X-aws-ec2-metadata-token", token).GET().build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as("spot/instance-action: 200 (notice) or 404 (none yet)").isIn(200, 404);
      if (r.statusCode() == 404) {
        lastAbsentSentAt = sent;
        absent++;
      }
      return r.statusCode() == 200;
    }

    /** When the last look that did not see the notice was sent: the notice appeared after it. */
    long lastAbsentSentAt() {
      assertThat(absent).as("looks at IMDS before the notice appeared").isPositive();
      return lastAbsentSentAt;
    }

    @Override
    public void close() {
      // the JDK 17 client has nothing to close
    }
  }

  @Test
  void aSpotNoticeTaintsWithinTwoSecondsOfBecomingVisibleAndTheDrainKeepsTheDisruptionBudget(KubernetesClient client, ControlPlane cp,
      TestNamespace ns) throws Exception {
    String pool = "int-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
    String doomed = pool + "-spot";
    String spare = pool + "-spare";
    client.nodes().resource(node(doomed, pool)).create();
    claim(client, doomed, doomed);

    client.apps().deployments().resource(new DeploymentBuilder().withNewMetadata().withName("web").withNamespace(ns.name()).endMetadata()
        .withNewSpec().withReplicas(REPLICAS).withNewSelector().addToMatchLabels("app", "web").endSelector()
        .withNewTemplate().withNewMetadata().addToLabels("app", "web").endMetadata()
        .withNewSpec().addToNodeSelector(POOL, pool).withTerminationGracePeriodSeconds(0L)
        .addNewContainer().withName("app").withImage("registry.k8s.io/pause:3.10").withNewResources()
        .addToRequests("cpu", new Quantity("100m")).endResources().endContainer().endSpec().endTemplate().endSpec().build()).create();
    client.policy().v1().podDisruptionBudget().resource(new PodDisruptionBudgetBuilder().withNewMetadata().withName("web")
        .withNamespace(ns.name()).endMetadata().withNewSpec().withMinAvailable(new IntOrString(MIN_AVAILABLE))
        .withNewSelector().addToMatchLabels("app", "web").endSelector().endSpec().build()).create();
    // Every replica ready on the doomed node, and the budget computed from them: one disruption allowed.
    await().atMost(Duration.ofMinutes(1)).untilAsserted(() -> {
      assertThat(client.pods().inNamespace(ns.name()).withLabel("app", "web").list().getItems()).hasSize(REPLICAS)
          .allSatisfy(p -> assertThat(ready(p)).as("%s ready", p.getMetadata().getName()).isTrue());
      PodDisruptionBudgetStatus budget = client.policy().v1().podDisruptionBudget().inNamespace(ns.name()).withName("web").get().getStatus();
      assertThat(budget).isNotNull();
      assertThat(budget.getCurrentHealthy()).isEqualTo(REPLICAS);
      assertThat(budget.getDisruptionsAllowed()).isEqualTo(REPLICAS - MIN_AVAILABLE);
    });
    Set<String> onDoomed = client.pods().inNamespace(ns.name()).withLabel("app", "web").list().getItems().stream()
        .map(p -> p.getMetadata().getName()).collect(Collectors.toSet());

    PodList listed = client.pods().inNamespace(ns.name()).withLabel("app", "web").list();
    Availability availability = new Availability(listed.getItems());
    CompletableFuture<Long> taintedAt = new CompletableFuture<>();
    KubeConfig config = kubeConfig(cp);
    RecordingHttpClient api = new RecordingHttpClient(KubeApi.httpClient(config, Duration.ofSeconds(10), null));
    try (Watch pods = client.pods().inNamespace(ns.name()).withLabel("app", "web")
            .watch(new ListOptionsBuilder().withResourceVersion(listed.getMetadata().getResourceVersion()).build(), availability);
        Watch nodes = client.nodes().withName(doomed).watch(new Watcher<>() {
          @Override
          public void eventReceived(Action action, Node n) {
            if (taintedAndCordoned(n)) {
              taintedAt.complete(System.nanoTime());
            }
          }

          @Override
          public void onClose(WatcherException cause) {
            taintedAt.completeExceptionally(cause);
          }
        });
        // --mock-ip-count=-1: the mock otherwise records requesting IPs in another unlocked map.
        MetadataMock imds = MetadataMock.start("spot", "--mock-delay-sec", "5", "--action", "terminate", "--mock-ip-count=-1");
        NoticeProbe probe = new NoticeProbe(imds.endpoint());
        Agent agent = agent(config, api, imds.endpoint(), doomed).start()) {
      await().atMost(Duration.ofSeconds(10)).until(agent::imdsReachable);
      // When the notice became visible: after the last look that did not see it. The latency is counted from when
      // that look was sent (before the mock decided), so it is an upper bound.
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20)).until(probe::noticeVisible);

      long tainted = taintedAt.get(15, TimeUnit.SECONDS);
      Duration latency = Duration.ofNanos(tainted - probe.lastAbsentSentAt());
      System.out.printf("[interruption] node tainted and cordoned at most %d ms after the notice appeared in IMDS%n", latency.toMillis());
      assertThat(latency).as("tainted after the notice appeared, not before").isPositive();
      assertThat(latency).as("from the notice appearing to the node tainted and cordoned").isLessThanOrEqualTo(TAINT_DEADLINE);
      Node n = client.nodes().withName(doomed).get();
      assertThat(n.getSpec().getTaints()).anySatisfy(t -> {
        assertThat(t.getKey()).isEqualTo(NodeActions.INTERRUPTION_TAINT);
        assertThat(t.getValue()).isEqualTo("terminate");
        assertThat(t.getEffect()).isEqualTo("NoSchedule");
      });
      // The NodeClaim is marked right after (a rebalance recommendation the mock also publishes never overrides it).
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(
          client.resources(NodeClaim.class).withName(doomed).get().getMetadata().getAnnotations())
          .hasEntrySatisfying(NodeActions.INTERRUPTION_ANNOTATION, v -> assertThat(v).startsWith("spot-interruption@")));

      // The drain waits for the replacement the provisioner would launch: the replicas keep running while the agent
      // looks at the claim, until the claim says their replacement is ready (as the provisioner writes it).
      String claimPath = NodeActions.NODE_CLAIMS + "/" + doomed;
      await().atMost(Duration.ofSeconds(20)).until(() -> api.exchanges().stream()
          .filter(e -> e.method().equals("GET") && e.path().equals(claimPath)).count() >= 3);
      assertThat(api.exchanges()).as("evictions before the replacement is ready").noneMatch(e -> e.path().endsWith("/eviction"));
      client.resources(NodeClaim.class).withName(doomed).patch(PatchContext.of(PatchType.JSON_MERGE),
          Serialization.asJson(NodeMarks.replacementReadyPatch(Instant.now())));

      // No node takes the replacements yet, so once one replica is evicted the budget stays at zero: the next
      // evictions must be refused (429), and the agent must keep trying. Only then does the spare node come.
      await().atMost(Duration.ofSeconds(30)).until(() -> api.exchanges().stream()
          .anyMatch(e -> e.method().equals("POST") && e.path().endsWith("/eviction") && e.status() == 429));
      PodDisruptionBudgetStatus exhausted = client.policy().v1().podDisruptionBudget().inNamespace(ns.name()).withName("web").get().getStatus();
      assertThat(exhausted.getDisruptionsAllowed()).as("disruptions the budget allowed when an eviction was refused").isZero();
      client.nodes().resource(node(spare, pool)).create();

      // Drained: every replica ends up ready on the spare node.
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(client.pods().inNamespace(ns.name()).withLabel("app", "web").list()
          .getItems()).hasSize(REPLICAS).allSatisfy(p -> {
            assertThat(p.getSpec().getNodeName()).isEqualTo(spare);
            assertThat(ready(p)).as("%s ready", p.getMetadata().getName()).isTrue();
          }));

      // The budget held: ready replicas never fell below its minimum. And the drain went through the Eviction API,
      // paced by the budget: the refusals seen above, each replica evicted once, every eviction either accepted or
      // refused by the budget, no pod deleted outright.
      assertThat(availability.lowest()).as("ready replicas at their lowest during the drain").isGreaterThanOrEqualTo(MIN_AVAILABLE);
      List<RecordingHttpClient.Exchange> evictions = api.exchanges().stream()
          .filter(e -> e.method().equals("POST") && e.path().endsWith("/eviction")).toList();
      evictions.forEach(e -> System.out.printf("[interruption] +%d ms eviction of %s: %d%n",
          TimeUnit.NANOSECONDS.toMillis(e.answeredAtNanos() - tainted), e.path().split("/")[6], e.status()));
      assertThat(evictions).as("evictions the API server refused (429) because the disruption budget allowed none")
          .filteredOn(e -> e.status() == 429).isNotEmpty()
          .allSatisfy(e -> assertThat(e.body()).contains("disruption budget"));
      assertThat(evictions.stream().filter(e -> e.status() / 100 == 2).map(e -> e.path().split("/")[6]).toList())
          .as("evictions accepted").containsExactlyInAnyOrderElementsOf(onDoomed);
      assertThat(evictions).as("every eviction either accepted or refused by the budget").allSatisfy(e -> assertThat(e.status()).isIn(201, 429));
      assertThat(api.exchanges()).as("pods deleted without an eviction")
          .noneMatch(e -> e.method().equals("DELETE") && e.path().contains("/pods/"));

      Map<String, Long> reasons = client.v1().events().inNamespace("default").list().getItems().stream()
          .filter(e -> doomed.equals(e.getInvolvedObject().getName())).collect(Collectors.groupingBy(e -> e.getReason(), Collectors.counting()));
      assertThat(reasons).containsKeys("SpotInterrupted", "DrainStarted");
      assertThat(agent.imdsReachable()).isTrue();
    }
  }

  @Test
  void withIMDSUnreachableTheAgentKeepsPollingNotReadyAndBecomesReadyOnceIMDSAnswers(ControlPlane cp) throws Exception {
    // Until IMDS comes up, its port takes connections and closes them unanswered; every token request the agent
    // sends there is counted, so the test sees polls fail rather than assuming they happened.
    AtomicInteger tokenRequests = new AtomicInteger();
    int port;
    try (ServerSocket down = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      port = down.getLocalPort();
      Thread gate = new Thread(() -> {
        while (!down.isClosed()) {
          try (Socket s = down.accept()) {
            String requestLine = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            if (requestLine != null && requestLine.startsWith("PUT /latest/api/token ")) {
              tokenRequests.incrementAndGet();
            }
          } catch (IOException closed) {
            // the gate closed, or the agent hung up
          }
        }
      }, "imds-down");
      gate.setDaemon(true);
      gate.start();

      KubeConfig config = kubeConfig(cp);
      try (Agent agent = agent(config, KubeApi.httpClient(config, Duration.ofSeconds(10), null), URI.create("http://127.0.0.1:" + port),
          "no-such-node").start()) {
        await().atMost(Duration.ofSeconds(30)).until(() -> tokenRequests.get() >= 3);
        assertThat(agent.imdsReachable()).as("IMDS reachable after %d failed polls", tokenRequests.get()).isFalse();
        assertThat(agent.notReady()).hasValueSatisfying(reason -> assertThat(reason).contains("IMDS has not answered"));

        down.close();
        // IMDS comes up on the same port, with nothing to report for an hour: the agent must notice it answers.
        try (MetadataMock imds = MetadataMock.startOn(port, "spot", "--mock-delay-sec", "3600", "--rebalance-delay-sec", "3600",
            "--mock-ip-count=-1")) {
          await().atMost(Duration.ofSeconds(15)).until(agent::imdsReachable);
          assertThat(agent.notReady()).isEmpty();
        }
      }
    }
  }
}
