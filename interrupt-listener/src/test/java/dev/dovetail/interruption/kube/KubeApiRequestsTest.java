package dev.dovetail.interruption.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** KubeApi's error mapping, retries and token reload, against a scripted in-process HTTP server (not named *ApiTest: no API server). */
class KubeApiRequestsTest {
  private record Answer(int status, String body) {
  }

  private HttpServer server;
  private final Deque<Answer> script = new ArrayDeque<>();
  private final List<String> seen = new ArrayList<>();

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::answer);
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private synchronized void answer(HttpExchange exchange) throws IOException {
    byte[] request = exchange.getRequestBody().readAllBytes();
    seen.add(exchange.getRequestMethod() + " " + exchange.getRequestURI() + " " + exchange.getRequestHeaders().getFirst("Authorization")
        + " " + exchange.getRequestHeaders().getFirst("Content-Type") + " " + new String(request, StandardCharsets.UTF_8));
    Answer a = script.isEmpty() ? new Answer(200, "{}") : script.poll();
    byte[] body = a.body().getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(a.status(), body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      exchange.getResponseBody().write(body);
    }
    exchange.close();
  }

  private KubeApi api(Optional<BearerToken> token, KubeApi.Retry retry) {
    return new KubeApi(HttpClient.newHttpClient(), URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/"), token,
        Duration.ofSeconds(5), retry);
  }

  private static String status(int code, String reason, String message) {
    return "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"code\":" + code + ",\"reason\":\"" + reason
        + "\",\"message\":\"" + message + "\"}";
  }

  @Test
  void notFoundIsEmptyAndOtherRefusalsCarryTheStatus() {
    KubeApi api = api(Optional.empty(), new KubeApi.Retry(2, Duration.ofMillis(1)));
    script.add(new Answer(404, status(404, "NotFound", "nodes \"x\" not found")));
    assertThat(api.get("/api/v1/nodes/x")).isEmpty();

    script.add(new Answer(409, status(409, "Conflict", "the object has been modified")));
    assertThatThrownBy(() -> api.patch("/api/v1/nodes/x", KubeApi.MERGE_PATCH, KubeApi.JSON.createObjectNode()))
        .isInstanceOfSatisfying(KubeApiException.class, e -> {
          assertThat(e.conflict()).isTrue();
          assertThat(e.reason()).isEqualTo("Conflict");
          assertThat(e.getMessage()).isEqualTo("PATCH /api/v1/nodes/x answered 409: the object has been modified");
        });
    assertThat(seen.get(1)).contains("application/merge-patch+json");

    script.add(new Answer(403, "forbidden, and not JSON"));
    assertThatThrownBy(() -> api.get("/api/v1/secrets")).isInstanceOfSatisfying(KubeApiException.class,
        e -> assertThat(e.getMessage()).endsWith("answered 403: forbidden, and not JSON"));
  }

  @Test
  void serverErrorsAndThrottlingAreRetriedWithBackoffUpToTheLimit() {
    KubeApi api = api(Optional.empty(), new KubeApi.Retry(2, Duration.ofMillis(1)));
    script.add(new Answer(500, status(500, "InternalError", "etcd")));
    script.add(new Answer(429, status(429, "TooManyRequests", "slow down")));
    script.add(new Answer(200, "{\"items\":[{\"metadata\":{\"name\":\"p\"}}]}"));
    assertThat(api.list("/api/v1/pods").get(0).path("metadata").path("name").asText()).isEqualTo("p");
    assertThat(seen).hasSize(3);

    seen.clear();
    script.add(new Answer(503, ""));
    script.add(new Answer(503, ""));
    script.add(new Answer(503, ""));
    assertThatThrownBy(() -> api.get("/x")).isInstanceOfSatisfying(KubeApiException.class, e -> assertThat(e.status()).isEqualTo(503));
    assertThat(seen).hasSize(3);
  }

  @Test
  void withoutRetriesARefusedEvictionIsTheAnswer() {
    KubeApi api = api(Optional.empty(), KubeApi.Retry.DEFAULT).withRetry(KubeApi.Retry.NONE);
    script.add(new Answer(429, status(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.")));
    assertThatThrownBy(() -> api.post("/api/v1/namespaces/a/pods/p/eviction", KubeApi.JSON.createObjectNode().put("kind", "Eviction")))
        .isInstanceOfSatisfying(KubeApiException.class, e -> assertThat(e.status()).isEqualTo(429));
    assertThat(seen).hasSize(1).first().asString().contains("POST /api/v1/namespaces/a/pods/p/eviction").contains("{\"kind\":\"Eviction\"}");
  }

  @Test
  void aRefusedTokenIsReadAgainOnceAndTheRequestRepeated() {
    AtomicReference<String> current = new AtomicReference<>("old");
    List<String> invalidated = new ArrayList<>();
    BearerToken token = new BearerToken() {
      @Override
      public String value() {
        return current.get();
      }

      @Override
      public void invalidate() {
        invalidated.add(current.get());
        current.set("new");
      }
    };
    KubeApi api = api(Optional.of(token), new KubeApi.Retry(0, Duration.ZERO));
    script.add(new Answer(401, status(401, "Unauthorized", "Unauthorized")));
    assertThat(api.get("/api/v1/nodes/n")).isPresent();
    assertThat(seen).hasSize(2);
    assertThat(seen.get(0)).contains("Bearer old");
    assertThat(seen.get(1)).contains("Bearer new");

    script.add(new Answer(401, status(401, "Unauthorized", "Unauthorized")));
    script.add(new Answer(401, status(401, "Unauthorized", "Unauthorized")));
    assertThatThrownBy(() -> api.get("/api/v1/nodes/n")).isInstanceOfSatisfying(KubeApiException.class, e -> assertThat(e.status()).isEqualTo(401));
    assertThat(invalidated).hasSize(2);
  }

  @Test
  void noAnswerIsStatusZeroAndNamesAreEncoded() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    KubeApi api = new KubeApi(HttpClient.newHttpClient(), URI.create("http://127.0.0.1:" + closed), Optional.empty(), Duration.ofSeconds(1),
        new KubeApi.Retry(1, Duration.ofMillis(1)));
    assertThatThrownBy(() -> api.get("/api")).isInstanceOfSatisfying(KubeApiException.class, e -> assertThat(e.status()).isZero());
    assertThat(KubeApi.query("spec.nodeName=ip-10-0-0-1.ec2.internal")).isEqualTo("spec.nodeName%3Dip-10-0-0-1.ec2.internal");
    assertThat(KubeApi.segment("a b/c")).isEqualTo("a%20b%2Fc");
  }
}
