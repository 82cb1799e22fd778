package dev.dovetail.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.net.ServerSocket;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OpsServerTest {
  private Vertx vertx;
  private WebClient http;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    http = WebClient.create(vertx);
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static OpsOptions ports(int metrics, int health) {
    OpsOptions o = new OpsOptions();
    o.metricsPort = metrics;
    o.healthProbePort = health;
    o.bindAddress = "127.0.0.1";
    return o;
  }

  private HttpResponse<Buffer> get(int port, String path) throws Exception {
    return http.get(port, "127.0.0.1", path).send().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void readinessNamesWhatIsWrongUntilItIsFixed() throws Exception {
    AtomicReference<Optional<String>> crds = new AtomicReference<>(Optional.of("CRDs not installed: [nodepools.karpenter.sh]"));
    OpsServer server = new OpsServer(Metrics.registry("test", "1.0"))
        .withReadiness(Readiness.always("process"))
        .withReadiness(new Readiness("crds", crds::get));
    int[] bound = server.start(vertx, ports(0, 0)).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);

    HttpResponse<Buffer> notReady = get(bound[1], "/readyz");
    assertThat(notReady.statusCode()).isEqualTo(503);
    JsonObject body = notReady.bodyAsJsonObject();
    assertThat(body.getBoolean("ready")).isFalse();
    assertThat(body.getJsonArray("failing").getJsonObject(0).getString("check")).isEqualTo("crds");
    assertThat(body.getJsonArray("failing").getJsonObject(0).getString("problem")).contains("nodepools.karpenter.sh");

    crds.set(Optional.empty());
    assertThat(get(bound[1], "/readyz").statusCode()).isEqualTo(200);
    assertThat(get(bound[1], "/healthz").bodyAsString()).isEqualTo("ok");
  }

  @Test
  void aThrowingCheckMeansNotReady() throws Exception {
    OpsServer server = new OpsServer(Metrics.registry("test", "1.0"))
        .withReadiness(new Readiness("broken", () -> {
          throw new IllegalStateException("boom");
        }));
    int[] bound = server.start(vertx, ports(0, 0)).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    HttpResponse<Buffer> r = get(bound[1], "/readyz");
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.bodyAsString()).contains("boom");
  }

  @Test
  void metricsArePrometheusTextWithBuildInfo() throws Exception {
    PrometheusMeterRegistry registry = Metrics.registry("extender", "1.2.3");
    int[] bound = new OpsServer(registry).start(vertx, ports(0, 0)).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    HttpResponse<Buffer> r = get(bound[0], "/metrics");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.getHeader("content-type")).startsWith("text/plain");
    assertThat(r.bodyAsString()).contains("dovetail_build_info{component=\"extender\"").contains("version=\"1.2.3\"")
        .contains("jvm_memory_used_bytes");
    // Metrics and probes are on separate ports, like Karpenter's.
    assertThat(get(bound[0], "/readyz").statusCode()).isEqualTo(404);
  }

  @Test
  void aPortInUseFailsWithAClearMessage() throws Exception {
    int[] first = new OpsServer(Metrics.registry("a", "1")).start(vertx, ports(0, 0))
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    Throwable failure = new OpsServer(Metrics.registry("b", "1")).start(vertx, ports(first[0], 0))
        .toCompletionStage().toCompletableFuture().handle((ok, e) -> e).get(10, TimeUnit.SECONDS);
    assertThat(failure).isNotNull();
    assertThat(failure.getMessage()).contains("cannot listen on 127.0.0.1:" + first[0]).contains("is the port in use?");
  }

  @Test
  void equalPortsShareOneServer() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    int[] bound = new OpsServer(Metrics.registry("a", "1")).start(vertx, ports(port, port))
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(bound[0]).isEqualTo(bound[1]);
    assertThat(get(port, "/metrics").statusCode()).isEqualTo(200);
    assertThat(get(port, "/readyz").statusCode()).isEqualTo(200);
  }

  @Test
  void renamesRestoreMetricNamesThePrometheusClientWillNotRegister() {
    String scrape = String.join("\n",
        "# HELP karpenter_nodeclaims_creations_total Number of nodeclaims created in total by Karpenter.",
        "# TYPE karpenter_nodeclaims_creations_total counter",
        "karpenter_nodeclaims_creations_total{nodepool=\"general\"} 3.0",
        "karpenter_nodeclaims_creations_totally_different 1.0",
        "# EOF");
    String renamed = OpsServer.rename(scrape, java.util.Map.of("karpenter_nodeclaims_creations_total", "karpenter_nodeclaims_created_total"));
    assertThat(renamed.split("\n")).containsExactly(
        "# HELP karpenter_nodeclaims_created_total Number of nodeclaims created in total by Karpenter.",
        "# TYPE karpenter_nodeclaims_created_total counter",
        "karpenter_nodeclaims_created_total{nodepool=\"general\"} 3.0",
        "karpenter_nodeclaims_creations_totally_different 1.0",
        "# EOF");
    assertThat(OpsServer.rename(scrape, java.util.Map.of())).isSameAs(scrape);
  }
}
