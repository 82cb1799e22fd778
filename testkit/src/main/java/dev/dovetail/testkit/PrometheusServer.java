package dev.dovetail.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A real Prometheus server on a loopback port (Debian's package, unpacked by scripts/build-control-plane into a
 * version-keyed cache), scraping the given targets every second, with its HTTP query API. Without it tests skip
 * with the reason, unless {@code DOVETAIL_REQUIRE_CLUSTER} forbids skipping.
 */
public final class PrometheusServer implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final LocalServer server;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** A scrape job: its name and the {@code host:port} targets whose {@code metricsPath} it scrapes. */
  public record Job(String name, String metricsPath, List<String> targets) {
  }

  /** One series of an instant query's answer: its labels and value. */
  public record Series(Map<String, String> labels, double value) {
  }

  private PrometheusServer(LocalServer server) {
    this.server = server;
  }

  public static String version() {
    return K8sBinaries.scriptSetting("DOVETAIL_PROMETHEUS_VERSION");
  }

  /** Where scripts/build-control-plane unpacks it. */
  public static Path binary() {
    return K8sBinaries.cacheRoot().resolve("tools").resolve("prometheus-" + version() + "-" + K8sBinaries.arch()).resolve("usr/bin/prometheus");
  }

  /** promtool, from the same package. */
  public static Path promtool() {
    return binary().resolveSibling("promtool");
  }

  public static Optional<Path> require() {
    return LocalServer.require(binary(), "Prometheus", "install it with scripts/build-control-plane; needs Debian's apt-get");
  }

  /** Starts a server scraping {@code jobs} every second, keeping its data in a fresh directory. */
  public static PrometheusServer start(List<Job> jobs) {
    Path bin = require().orElseThrow();
    int port = Ports.free();
    try {
      Path dir = Files.createTempDirectory("dovetail-prometheus-config-");
      StringBuilder config = new StringBuilder("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n");
      for (Job j : jobs) {
        config.append("  - job_name: ").append(j.name()).append("\n    metrics_path: ").append(j.metricsPath())
            .append("\n    static_configs:\n      - targets: [").append(String.join(", ", j.targets().stream().map(t -> "'" + t + "'").toList()))
            .append("]\n");
      }
      Path file = dir.resolve("prometheus.yml");
      Files.writeString(file, config);
      return new PrometheusServer(LocalServer.start("prometheus", List.of(bin.toString(), "--config.file=" + file,
          "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port, "--log.level=warn"), port, Map.of()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public URI endpoint() {
    return server.endpoint();
  }

  public Path log() {
    return server.log();
  }

  /** An instant PromQL query's series (a vector; a scalar answers as one series without labels). */
  public List<Series> query(String promql) {
    JsonNode data = get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    List<Series> series = new ArrayList<>();
    if ("scalar".equals(data.path("resultType").asText())) {
      series.add(new Series(Map.of(), Double.parseDouble(data.path("result").get(1).asText())));
      return series;
    }
    for (JsonNode r : data.path("result")) {
      series.add(new Series(labels(r), Double.parseDouble(r.path("value").get(1).asText())));
    }
    return series;
  }

  /**
   * A range query's series, as a dashboard panel asks over its time range: each series' labels and how many of
   * the steps have a value.
   */
  public List<Series> queryRange(String promql, Instant start, Instant end, Duration step) {
    JsonNode data = get("/api/v1/query_range?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8) + "&start=" + start.getEpochSecond()
        + "&end=" + end.getEpochSecond() + "&step=" + step.toSeconds() + "s");
    List<Series> series = new ArrayList<>();
    for (JsonNode r : data.path("result")) {
      series.add(new Series(labels(r), r.path("values").size()));
    }
    return series;
  }

  /** A result's series labels, in the answer's order. */
  private static Map<String, String> labels(JsonNode result) {
    Map<String, String> labels = new LinkedHashMap<>();
    result.path("metric").fields().forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
    return labels;
  }

  /** The health of every scrape target, by its {@code job/instance}: {@code up}, {@code down} or {@code unknown}. */
  public Map<String, String> targets() {
    Map<String, String> health = new LinkedHashMap<>();
    for (JsonNode t : get("/api/v1/targets").path("activeTargets")) {
      health.put(t.path("labels").path("job").asText() + "/" + t.path("labels").path("instance").asText(), t.path("health").asText()
          + (t.path("lastError").asText().isEmpty() ? "" : " (" + t.path("lastError").asText() + ")"));
    }
    return health;
  }

  private JsonNode get(String pathAndQuery) {
    try {
      HttpResponse<String> response = http.send(HttpRequest.newBuilder(endpoint().resolve(pathAndQuery)).timeout(Duration.ofSeconds(10)).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      JsonNode body = JSON.readTree(response.body());
      if (response.statusCode() != 200 || !"success".equals(body.path("status").asText())) {
        throw new IllegalStateException("Prometheus answered " + response.statusCode() + " to " + pathAndQuery + ": " + response.body());
      }
      return body.path("data");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    server.close();
  }
}
