package dev.dovetail.interruption.kube;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The few Kubernetes API calls the agent makes, as plain HTTP on the JDK's client with JSON trees: no
 * client library, whose typed DSL and model cost the per-node agent more memory than everything else
 * together. Transient failures (no answer, 5xx, 429) are retried
 * with exponential back-off; a 401 reads the token again once.
 */
public final class KubeApi {
  private static final Logger LOG = LoggerFactory.getLogger(KubeApi.class);
  public static final String MERGE_PATCH = "application/merge-patch+json";
  static final ObjectMapper JSON = new ObjectMapper();

  /** How requests are retried: {@code retries} more attempts after the first, waiting {@code backoff}, doubled each time. */
  public record Retry(int retries, Duration backoff) {
    public static final Retry DEFAULT = new Retry(5, Duration.ofMillis(100));
    /** Every answer is final: for evictions, where a 429 (refused by a PodDisruptionBudget) is tried again next round, not here. */
    public static final Retry NONE = new Retry(0, Duration.ZERO);
  }

  private final HttpClient http;
  /** The server URL without a trailing slash; paths are appended (a proxy's path prefix stays). */
  private final String server;
  private final Optional<BearerToken> token;
  private final Duration timeout;
  private final Retry retry;

  public KubeApi(HttpClient http, URI server, Optional<BearerToken> token, Duration timeout, Retry retry) {
    this.http = http;
    String s = server.toString();
    this.server = s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    this.token = token;
    this.timeout = timeout;
    this.retry = retry;
  }

  /** A client of its own for the configuration (tests; the agent shares one with its IMDS reader, see {@link #httpClient}). */
  public static KubeApi connect(KubeConfig config, Duration timeout) {
    return on(httpClient(config, timeout, null), config, timeout);
  }

  /** Requests through {@code http}, which must carry the configuration's TLS context. */
  public static KubeApi on(HttpClient http, KubeConfig config, Duration timeout) {
    return new KubeApi(http, config.server(), config.token(), timeout, Retry.DEFAULT);
  }

  /**
   * An HTTP/1.1 client with the configuration's TLS context (else the JDK default's, which loads the
   * whole CA bundle: only when the server is plain HTTP). HTTP/1.1: the agent makes a few requests at a
   * time, and HTTP/2 is more code loaded for nothing.
   *
   * @param executor for the client's asynchronous work; null: the JDK's default (a thread per concurrent task)
   */
  public static HttpClient httpClient(KubeConfig config, Duration connectTimeout, Executor executor) {
    HttpClient.Builder http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(connectTimeout);
    config.tls().ifPresent(http::sslContext);
    if (executor != null) {
      http.executor(executor);
    }
    return http.build();
  }

  /** The object at {@code path}, or empty when there is none (404). */
  public Optional<JsonNode> get(String path) {
    try {
      return Optional.of(send("GET", path, null, null));
    } catch (KubeApiException e) {
      if (e.notFound()) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /** The items of the list at {@code path} (a collection, with any query). */
  public JsonNode list(String path) {
    return send("GET", path, null, null).path("items");
  }

  public JsonNode patch(String path, String contentType, JsonNode body) {
    return send("PATCH", path, contentType, body);
  }

  public JsonNode post(String path, JsonNode body) {
    return send("POST", path, "application/json", body);
  }

  /** The same server and credentials, retrying as {@code retry} says. */
  public KubeApi withRetry(Retry retry) {
    return new KubeApi(http, URI.create(server), token, timeout, retry);
  }

  public JsonNode delete(String path) {
    return send("DELETE", path, null, null);
  }

  /** {@code value} encoded for a query string. */
  public static String query(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  /** A name as a path segment (names are DNS subdomains; this keeps an odd one from changing the path). */
  public static String segment(String name) {
    return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
  }

  JsonNode send(String method, String path, String contentType, JsonNode body) {
    boolean tokenRefreshed = false;
    long wait = retry.backoff().toMillis();
    for (int attempt = 0; ; attempt++) {
      KubeApiException failure;
      try {
        HttpResponse<byte[]> response = http.send(request(method, path, contentType, body), HttpResponse.BodyHandlers.ofByteArray());
        int status = response.statusCode();
        if (status >= 200 && status < 300) {
          return response.body().length == 0 ? JSON.createObjectNode() : JSON.readTree(response.body());
        }
        failure = KubeApiException.of(method, path, status, response.body());
        if (status == 401 && token.isPresent() && !tokenRefreshed) {
          // The token rotated under us: read it again, and try once more straight away.
          token.get().invalidate();
          tokenRefreshed = true;
          attempt--;
          continue;
        }
      } catch (IOException e) {
        failure = new KubeApiException(method + " " + path + ": no answer from the API server (" + e + ")", 0, "");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new KubeApiException(method + " " + path + ": interrupted", 0, "");
      }
      if (!failure.worthRetrying() || attempt >= retry.retries()) {
        throw failure;
      }
      LOG.debug("{} {} failed, retrying in {} ms: {}", method, path, wait, failure.getMessage());
      try {
        Thread.sleep(wait);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw failure;
      }
      wait = Math.min(wait * 2, 5_000);
    }
  }

  private HttpRequest request(String method, String path, String contentType, JsonNode body) throws IOException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server + path)).timeout(timeout).header("Accept", "application/json");
    token.ifPresent(t -> b.header("Authorization", "Bearer " + t.value()));
    if (body == null) {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      b.header("Content-Type", contentType).method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
    }
    return b.build();
  }
}
