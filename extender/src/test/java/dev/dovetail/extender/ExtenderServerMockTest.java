package dev.dovetail.extender;

import static dev.dovetail.extender.Fixtures.node;
import static dev.dovetail.extender.Fixtures.rule;
import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.distribution.PodFacts;
import dev.dovetail.api.distribution.RuleSet;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec.Selector;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec.Strategy;
import dev.dovetail.api.scheduling.Resources;
import dev.dovetail.extender.decision.Decisions;
import dev.dovetail.extender.decision.InFlightTable;
import dev.dovetail.state.ClusterView;
import dev.dovetail.state.InFlight;
import dev.dovetail.state.MemoryClusterView;
import dev.dovetail.state.NodeFacts;
import dev.dovetail.state.Workload;
import dev.dovetail.state.WorkloadKey;
import dev.dovetail.state.WorkloadPlacement;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The extender protocol over real HTTP, with request bodies shaped like kube-scheduler's and a local cluster view. */
class ExtenderServerMockTest {
  private Vertx vertx;
  private WebClient http;
  private int port;
  private PrometheusMeterRegistry registry;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    MemoryClusterView view = new MemoryClusterView()
        .node(node("spot-a", CapacityType.SPOT, "us-east-1a", "m5.large"))
        .node(node("spot-b", CapacityType.SPOT, "us-east-1b", "m5.large"))
        .node(node("od-a", CapacityType.ON_DEMAND, "us-east-1a", "m5.large"))
        .node(node("od-b", CapacityType.ON_DEMAND, "us-east-1b", "m5.large"))
        .rules(RuleSet.of(List.of(rule("cluster", null, 100, 0, Selector.All, Strategy.CostOptimized))))
        .workload("ReplicaSet", "web-7d9f8c6b5", new Workload(new WorkloadKey("shop", "Deployment", "web"), 4));
    Decisions decisions = new Decisions(view, new InFlightTable(), Set.of("kube-system"), Catalog.bundled());
    Router router = new ExtenderServer(decisions, registry, 64 * 1024).mount(vertx, Router.router(vertx));
    HttpServer server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1")
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    port = server.actualPort();
    http = WebClient.create(vertx);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private HttpResponse<Buffer> post(String verb, byte[] body) throws Exception {
    return post(port, verb, body);
  }

  /** A call to the extender served on {@code serverPort}. */
  private HttpResponse<Buffer> post(int serverPort, String verb, byte[] body) throws Exception {
    return http.post(serverPort, "127.0.0.1", "/scheduler/" + verb).putHeader("Content-Type", "application/json")
        .sendBuffer(Buffer.buffer(body)).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void filterAnswersKubeSchedulersNodeCacheRequest() throws Exception {
    HttpResponse<Buffer> r = post("filter", Requests.load("filter-nodecache.json"));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.getHeader("content-type")).isEqualTo("application/json");
    JsonObject body = r.bodyAsJsonObject();
    assertThat(body.getJsonArray("NodeNames")).containsExactlyInAnyOrder("spot-a", "spot-b", "unknown-node");
    assertThat(body.getJsonObject("FailedAndUnresolvableNodes")).isEmpty();
    assertThat(body.getString("Error")).isEmpty();
    assertThat(body.containsKey("Nodes")).isTrue();
  }

  @Test
  void whenNoNodeFitsEveryRejectionCarriesAReason() throws Exception {
    JsonObject body = post("filter", Requests.nodeCache("shop", "web-7d9f8c6b5-z", "uid-z", "web-7d9f8c6b5", "od-a", "od-b"))
        .bodyAsJsonObject();
    assertThat(body.getJsonArray("NodeNames")).isEmpty();
    assertThat(body.getJsonObject("FailedAndUnresolvableNodes").fieldNames()).containsExactlyInAnyOrder("od-a", "od-b");
    assertThat(body.getJsonObject("FailedAndUnresolvableNodes").getString("od-a"))
        .startsWith("dovetail: Deployment shop/web needs spot capacity for this replica, node is on-demand");
  }

  @Test
  void filterAnswersFullNodeRequestsWithNodeObjects() throws Exception {
    JsonObject body = post("filter", Requests.load("filter-nodes.json")).bodyAsJsonObject();
    JsonArray items = body.getJsonObject("Nodes").getJsonArray("items");
    assertThat(items).hasSize(1);
    assertThat(items.getJsonObject(0).getJsonObject("metadata").getString("name")).isEqualTo("spot-a");
    assertThat(items.getJsonObject(0).getJsonObject("status").getJsonObject("allocatable").getString("cpu")).isEqualTo("1930m");
  }

  /**
   * A view whose watches have not delivered the pod's owners yet: until {@code fetchOwners} runs, the workload
   * looks like one replica (the guess that, under SpotReady, means on-demand).
   */
  private static final class OwnersNotWatchedYet implements ClusterView {
    private final MemoryClusterView view;
    private volatile boolean fetched;
    private volatile String fetchedOn;

    OwnersNotWatchedYet(MemoryClusterView view) {
      this.view = view;
    }

    @Override
    public boolean synced() {
      return view.synced();
    }

    @Override
    public Optional<NodeFacts> node(String name) {
      return view.node(name);
    }

    @Override
    public Resources requested(String node) {
      return view.requested(node);
    }

    @Override
    public Workload workloadOf(PodFacts pod) {
      Workload known = view.workloadOf(pod);
      return fetched ? known : new Workload(new WorkloadKey(pod.namespace(), "ReplicaSet", pod.owner().orElseThrow().name()), 1);
    }

    @Override
    public boolean ownersKnown(PodFacts pod) {
      return fetched;
    }

    @Override
    public void fetchOwners(PodFacts pod) {
      fetchedOn = Thread.currentThread().getName();
      fetched = true;
    }

    @Override
    public WorkloadPlacement placement(Workload workload, String excludedPodUid, InFlight inFlight, boolean spread) {
      return view.placement(workload, excludedPodUid, inFlight, spread);
    }

    @Override
    public RuleSet rules() {
      return view.rules();
    }

    @Override
    public void onPodSettled(Consumer<String> listener) {
      view.onPodSettled(listener);
    }
  }

  @Test
  void ownersTheWatchesHaveNotDeliveredAreReadOffTheEventLoopBeforeDeciding() throws Exception {
    OwnersNotWatchedYet lagging = new OwnersNotWatchedYet(new MemoryClusterView()
        .node(node("spot-a", CapacityType.SPOT, "us-east-1a", "m5.large"))
        .node(node("od-a", CapacityType.ON_DEMAND, "us-east-1a", "m5.large"))
        .rules(RuleSet.of(List.of(rule("cluster", null, 100, 0, Selector.SpotReady, Strategy.CostOptimized))))
        .workload("ReplicaSet", "web-7d9f8c6b5", new Workload(new WorkloadKey("shop", "Deployment", "web"), 6)));
    int lagPort = serve(lagging);
    HttpResponse<Buffer> r = post(lagPort, "filter", Requests.nodeCache("shop", "web-7d9f8c6b5-a", "uid-a", "web-7d9f8c6b5", "spot-a", "od-a"));
    // Six replicas under 100 % spot: spot. Decided on the guess (one replica, SpotReady), it would have been on-demand.
    assertThat(r.bodyAsJsonObject().getJsonArray("NodeNames")).containsExactly("spot-a");
    assertThat(lagging.fetchedOn).isNotNull().doesNotContain("eventloop");
  }

  /** Serves another cluster view on a second server of the same Vert.x instance; returns its port. */
  private int serve(ClusterView view) throws Exception {
    Decisions decisions = new Decisions(view, new InFlightTable(), Set.of("kube-system"), Catalog.bundled());
    Router router = new ExtenderServer(decisions, registry, 64 * 1024).mount(vertx, Router.router(vertx));
    return vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1")
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).actualPort();
  }

  /** The hosts of a prioritize reply from the highest score down, after checking every listed score is 1-10. */
  private static List<String> ranking(JsonArray reply) {
    List<JsonObject> entries = new ArrayList<>();
    for (int i = 0; i < reply.size(); i++) {
      JsonObject e = reply.getJsonObject(i);
      assertThat(e.getInteger("Score")).as("%s", e).isBetween(1, 10);
      entries.add(e);
    }
    entries.sort(Comparator.comparing((JsonObject e) -> e.getInteger("Score")).reversed());
    for (int i = 1; i < entries.size(); i++) {
      assertThat(entries.get(i).getInteger("Score")).as("no ties in %s", reply).isLessThan(entries.get(i - 1).getInteger("Score"));
    }
    return entries.stream().map(e -> e.getString("Host")).toList();
  }

  @Test
  void prioritizeUnderCostOptimizedRanksTheNodeWithAReplicaThenTheFullerNodeThenTheEmptyOne() throws Exception {
    // Three spot nodes of one type and price: spot-b already runs a replica of shop/web, spot-c is busy with
    // another workload, spot-a is empty. CostOptimized packs: with the workload first, then fuller, then empty.
    WorkloadKey web = new WorkloadKey("shop", "Deployment", "web");
    MemoryClusterView view = new MemoryClusterView()
        .node(node("spot-a", CapacityType.SPOT, "us-east-1a", "m5.large"))
        .node(node("spot-b", CapacityType.SPOT, "us-east-1b", "m5.large"))
        .node(node("spot-c", CapacityType.SPOT, "us-east-1c", "m5.large"))
        .rules(RuleSet.of(List.of(rule("cluster", null, 100, 0, Selector.All, Strategy.CostOptimized))))
        .workload("ReplicaSet", "web-7d9f8c6b5", new Workload(web, 4))
        .pod("uid-web-1", web, Optional.of("spot-b"), Resources.of("cpu", "100m", "memory", "128Mi"))
        .pod("uid-batch-1", new WorkloadKey("shop", "Deployment", "batch"), Optional.of("spot-c"), Resources.of("cpu", "1500m", "memory", "4Gi"));
    int server = serve(view);

    HttpResponse<Buffer> r = post(server, "prioritize", Requests.nodeCache("shop", "web-7d9f8c6b5-n", "uid-n", "web-7d9f8c6b5", "spot-a", "spot-b", "spot-c"));
    assertThat(r.statusCode()).isEqualTo(200);
    // The lowest-scoring host is left out of the reply (kube-scheduler adds nothing for it), the others are listed by their lead.
    assertThat(ranking(r.bodyAsJsonArray())).as("%s", r.bodyAsString()).containsExactly("spot-b", "spot-c");
  }

  @Test
  void prioritizeUnderLeastInterruptedRanksTheEmptyZoneThenTheEmptyNodeThenTheNodeWithReplicas() throws Exception {
    // Two replicas of shop/web on spot-a (us-east-1a); spot-c is another node in us-east-1a, spot-b is alone in
    // us-east-1b. LeastInterrupted spreads: a new zone first, then a new node in a used zone, then the used node.
    WorkloadKey web = new WorkloadKey("shop", "Deployment", "web");
    MemoryClusterView view = new MemoryClusterView()
        .node(node("spot-a", CapacityType.SPOT, "us-east-1a", "m5.large"))
        .node(node("spot-b", CapacityType.SPOT, "us-east-1b", "m5.large"))
        .node(node("spot-c", CapacityType.SPOT, "us-east-1a", "m5.large"))
        .rules(RuleSet.of(List.of(rule("cluster", null, 100, 0, Selector.All, Strategy.LeastInterrupted))))
        .workload("ReplicaSet", "web-7d9f8c6b5", new Workload(web, 4))
        .pod("uid-web-1", web, Optional.of("spot-a"), Resources.of("cpu", "100m", "memory", "128Mi"))
        .pod("uid-web-2", web, Optional.of("spot-a"), Resources.of("cpu", "100m", "memory", "128Mi"));
    int server = serve(view);

    HttpResponse<Buffer> r = post(server, "prioritize", Requests.nodeCache("shop", "web-7d9f8c6b5-n", "uid-n", "web-7d9f8c6b5", "spot-a", "spot-b", "spot-c"));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(ranking(r.bodyAsJsonArray())).as("%s", r.bodyAsString()).containsExactly("spot-b", "spot-c");
  }

  @Test
  void badInputGets4xxWithAReasonAndTheServerKeepsServing() throws Exception {
    HttpResponse<Buffer> malformed = post("filter", "{\"Pod\": {".getBytes(StandardCharsets.UTF_8));
    assertThat(malformed.statusCode()).isEqualTo(400);
    assertThat(malformed.bodyAsJsonObject().getString("Error")).contains("malformed JSON");

    HttpResponse<Buffer> wrongType = post("prioritize", "{\"Pod\":{\"metadata\":{\"name\":\"p\"}},\"NodeNames\":{}}".getBytes(StandardCharsets.UTF_8));
    assertThat(wrongType.statusCode()).isEqualTo(400);
    assertThat(wrongType.bodyAsJsonObject().getString("Error")).contains("NodeNames must be an array");

    byte[] huge = ("{\"Pod\":{\"metadata\":{\"name\":\"p\",\"x\":\"" + "x".repeat(70_000) + "\"}},\"NodeNames\":[]}").getBytes(StandardCharsets.UTF_8);
    HttpResponse<Buffer> tooLarge = post("filter", huge);
    assertThat(tooLarge.statusCode()).isEqualTo(413);
    assertThat(tooLarge.bodyAsJsonObject().getString("Error")).contains("larger than the limit of 65536 bytes");

    assertThat(post("filter", new byte[0]).statusCode()).isEqualTo(400);
    assertThat(post("filter", Requests.load("filter-nodecache.json")).statusCode()).isEqualTo(200);
  }

  @Test
  void aClientThatStopsMidRequestDoesNotDisturbOthers() throws Exception {
    try (Socket slow = new Socket("127.0.0.1", port)) {
      slow.getOutputStream().write(("POST /scheduler/filter HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          + "Content-Length: 1000\r\n\r\n{\"Pod\":").getBytes(StandardCharsets.UTF_8));
      slow.getOutputStream().flush();
      HttpResponse<Buffer> other = post("filter", Requests.load("filter-nodecache.json"));
      assertThat(other.statusCode()).isEqualTo(200);
    }
  }

  @Test
  void latencyAndOutcomesAreMetered() throws Exception {
    post("filter", Requests.load("filter-nodecache.json"));
    post("filter", "nope".getBytes(StandardCharsets.UTF_8));
    String scrape = registry.scrape();
    assertThat(scrape).contains("dovetail_extender_request_duration_seconds_bucket{verb=\"filter\"");
    assertThat(scrape).contains("dovetail_extender_decisions_total{outcome=\"governed\",verb=\"filter\"} 1.0");
    assertThat(scrape).contains("dovetail_extender_decisions_total{outcome=\"bad_request\",verb=\"filter\"} 1.0");
  }

  @Test
  void unknownPathsAndMethodsAreClientErrors() throws Exception {
    HttpClient client = vertx.createHttpClient(new HttpClientOptions());
    int get = client.request(HttpMethod.GET, port, "127.0.0.1", "/scheduler/filter").compose(req -> req.send())
        .map(resp -> resp.statusCode()).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(get).isEqualTo(405);
    assertThat(post("bind", new byte[] {'{', '}'}).statusCode()).isEqualTo(404);
  }
}
