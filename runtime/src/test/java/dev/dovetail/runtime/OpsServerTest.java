package dev.dovetail.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class OpsServerTest {
  private final HttpClient http = HttpClient.newHttpClient();
  private final List<OpsServer> started = new ArrayList<>();

  @AfterEach
  void tearDown() {
    started.forEach(OpsServer::stop);
  }

  private int[] start(OpsServer server, OpsOptions options) {
    started.add(server);
    return server.start(options);
  }

  private static OpsOptions ports(int metrics, int health) {
    OpsOptions o = new OpsOptions();
    o.metricsPort = metrics;
    o.healthProbePort = health;
    o.bindAddress = "127.0.0.1";
    return o;
  }

  private HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void readinessNamesWhatIsWrongUntilItIsFixed() throws Exception {
    AtomicReference<Optional<String>> crds = new AtomicReference<>(Optional.of("CRDs not installed: [nodepools.karpenter.sh]"));
    OpsServer server = new OpsServer(Metrics.registry("test", "1.0"))
        .withReadiness(Readiness.always("process"))
        .withReadiness(new Readiness("crds", crds::get));
    int[] bound = start(server, ports(0, 0));

    HttpResponse<String> notReady = get(bound[1], "/readyz");
    assertThat(notReady.statusCode()).isEqualTo(503);
    JsonNode body = new ObjectMapper().readTree(notReady.body());
    assertThat(body.get("ready").asBoolean()).isFalse();
    assertThat(body.get("failing")).hasSize(1);
    assertThat(body.get("failing").get(0).get("check").asText()).isEqualTo("crds");
    assertThat(body.get("failing").get(0).get("problem").asText()).contains("nodepools.karpenter.sh");

    crds.set(Optional.empty());
    assertThat(get(bound[1], "/readyz").statusCode()).isEqualTo(200);
    assertThat(get(bound[1], "/healthz").body()).isEqualTo("ok");
    assertThat(get(bound[1], "/healthz/extra").statusCode()).isEqualTo(404);
    assertThat(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + bound[1] + "/readyz"))
        .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(405);
  }

  @Test
  void aThrowingCheckMeansNotReady() throws Exception {
    OpsServer server = new OpsServer(Metrics.registry("test", "1.0"))
        .withReadiness(new Readiness("broken", () -> {
          throw new IllegalStateException("boom");
        }));
    int[] bound = start(server, ports(0, 0));
    HttpResponse<String> r = get(bound[1], "/readyz");
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.body()).contains("boom");
  }

  @Test
  void metricsArePrometheusTextWithBuildInfo() throws Exception {
    PrometheusMeterRegistry registry = Metrics.registry("extender", "1.2.3");
    int[] bound = start(new OpsServer(registry), ports(0, 0));
    HttpResponse<String> r = get(bound[0], "/metrics");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
    assertThat(r.body()).contains("dovetail_build_info{component=\"extender\"").contains("version=\"1.2.3\"")
        .contains("jvm_memory_used_bytes");
    // Metrics and probes are on separate ports, like Karpenter's.
    assertThat(get(bound[0], "/readyz").statusCode()).isEqualTo(404);
  }

  @Test
  void aPortInUseFailsWithAClearMessage() throws Exception {
    int[] first = start(new OpsServer(Metrics.registry("a", "1")), ports(0, 0));
    Throwable failure = Assertions.catchThrowable(() -> start(new OpsServer(Metrics.registry("b", "1")), ports(first[0], 0)));
    assertThat(failure).isInstanceOf(IllegalStateException.class);
    assertThat(failure.getMessage()).contains("cannot listen on 127.0.0.1:" + first[0]).contains("is the port in use?");
  }

  @Test
  void equalPortsShareOneServer() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    int[] bound = start(new OpsServer(Metrics.registry("a", "1")), ports(port, port));
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
    String renamed = OpsServer.rename(scrape, Map.of("karpenter_nodeclaims_creations_total", "karpenter_nodeclaims_created_total"));
    assertThat(renamed.split("\n")).containsExactly(
        "# HELP karpenter_nodeclaims_created_total Number of nodeclaims created in total by Karpenter.",
        "# TYPE karpenter_nodeclaims_created_total counter",
        "karpenter_nodeclaims_created_total{nodepool=\"general\"} 3.0",
        "karpenter_nodeclaims_creations_totally_different 1.0",
        "# EOF");
    assertThat(OpsServer.rename(scrape, Map.of())).isSameAs(scrape);
  }
}
