package dev.dovetail.runtime;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.ext.web.Router;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The operational endpoints of a component: {@code GET /healthz} (the process answers),
 * {@code GET /readyz} (every {@link Readiness} holds; 503 with the reasons otherwise) and
 * {@code GET /metrics} (Prometheus text format). Metrics and probes listen on separate ports, as
 * Karpenter's do, or share one when both ports are equal.
 */
public final class OpsServer {
  static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<Readiness> checks = new CopyOnWriteArrayList<>();
  private final List<HttpServer> servers = new CopyOnWriteArrayList<>();
  private final PrometheusMeterRegistry registry;
  private final Map<String, String> renames = new ConcurrentHashMap<>();
  /** Two threads: a probe is answered while a scrape (which walks every meter, one per pod on a big cluster) runs. */
  private final ExecutorService worker = Executors.newFixedThreadPool(2, new ThreadFactory() {
    private final AtomicInteger n = new AtomicInteger();

    @Override
    public Thread newThread(Runnable r) {
      Thread t = new Thread(r, "ops-http-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    }
  });

  public OpsServer(PrometheusMeterRegistry registry) {
    this.registry = registry;
  }

  /**
   * Serves metric families under other names. The Prometheus client refuses names ending in
   * {@code _created} (OpenMetrics reserves the suffix), yet Karpenter's dashboards expect
   * {@code karpenter_nodeclaims_created_total}: such meters are registered under a stand-in name and
   * renamed here, in the text the scrape returns.
   */
  public OpsServer withRenames(Map<String, String> fromTo) {
    renames.putAll(fromTo);
    return this;
  }

  /** The registry in Prometheus text format, with the renames applied. */
  public String scrape() {
    return rename(registry.scrape(), renames);
  }

  /** Renames metric families in Prometheus text: in HELP and TYPE lines and in samples. */
  public static String rename(String text, Map<String, String> fromTo) {
    if (fromTo.isEmpty()) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length() + 256);
    for (String line : text.split("\n", -1)) {
      out.append(renameLine(line, fromTo)).append('\n');
    }
    out.setLength(out.length() - 1);
    return out.toString();
  }

  private static String renameLine(String line, Map<String, String> fromTo) {
    String prefix = "";
    String rest = line;
    if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
      prefix = line.substring(0, 7);
      rest = line.substring(7);
    } else if (line.startsWith("#")) {
      return line;
    }
    int end = 0;
    while (end < rest.length() && rest.charAt(end) != '{' && rest.charAt(end) != ' ') {
      end++;
    }
    String to = fromTo.get(rest.substring(0, end));
    return to == null ? line : prefix + to + rest.substring(end);
  }

  public OpsServer withReadiness(Readiness check) {
    checks.add(check);
    return this;
  }

  /** Adds the probe and metrics routes to a Vert.x router (for a component that serves them on its own port too). */
  public Router mount(Router router) {
    router.get("/healthz").handler(ctx -> ctx.response().putHeader("content-type", "text/plain").end("ok"));
    router.get("/readyz").handler(ctx -> {
      Answer a = readiness();
      ctx.response().setStatusCode(a.status()).putHeader("content-type", a.contentType()).end(a.body());
    });
    // A scrape walks every meter (one per pod for karpenter_pods_state): not on the event loop.
    router.get("/metrics").handler(ctx -> ctx.vertx().executeBlocking(this::scrape, false).onComplete(done -> {
      if (done.succeeded()) {
        ctx.response().putHeader("content-type", PROMETHEUS_TEXT).end(done.result());
      } else {
        ctx.response().setStatusCode(500).end(String.valueOf(done.cause()));
      }
    }));
    return router;
  }

  /**
   * Starts the servers on the JDK's built-in HTTP server (no event loop of its own: the per-node agent
   * must stay small) with two worker threads; returns the bound ports (metrics, health), useful when 0
   * was asked for.
   */
  public int[] start(OpsOptions options) {
    if (options.metricsPort == options.healthProbePort && options.metricsPort != 0) {
      HttpServer one = listen(options.bindAddress, options.metricsPort, true, true);
      return new int[] {one.getAddress().getPort(), one.getAddress().getPort()};
    }
    HttpServer metrics = listen(options.bindAddress, options.metricsPort, true, false);
    HttpServer health = listen(options.bindAddress, options.healthProbePort, false, true);
    return new int[] {metrics.getAddress().getPort(), health.getAddress().getPort()};
  }

  private HttpServer listen(String host, int port, boolean withMetrics, boolean withProbes) {
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(host, port), 16);
    } catch (IOException e) {
      stop();
      throw new IllegalStateException("cannot listen on " + host + ":" + port + " (" + e.getMessage() + "); is the port in use?", e);
    }
    if (withMetrics) {
      server.createContext("/metrics", exchange -> {
        if (exact(exchange, "/metrics")) {
          respond(exchange, new Answer(200, PROMETHEUS_TEXT, scrape()));
        }
      });
    }
    if (withProbes) {
      server.createContext("/healthz", exchange -> {
        if (exact(exchange, "/healthz")) {
          respond(exchange, new Answer(200, "text/plain", "ok"));
        }
      });
      server.createContext("/readyz", exchange -> {
        if (exact(exchange, "/readyz")) {
          respond(exchange, readiness());
        }
      });
    }
    server.createContext("/", exchange -> respond(exchange, new Answer(404, "text/plain", "not found")));
    server.setExecutor(worker);
    server.start();
    servers.add(server);
    return server;
  }

  /** Only GET (and HEAD) of the exact path; anything else gets its 404 or 405 here. */
  private static boolean exact(HttpExchange exchange, String path) throws IOException {
    if (!path.equals(exchange.getRequestURI().getPath())) {
      respond(exchange, new Answer(404, "text/plain", "not found"));
      return false;
    }
    if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
      exchange.getResponseHeaders().set("allow", "GET");
      respond(exchange, new Answer(405, "text/plain", "method not allowed"));
      return false;
    }
    return true;
  }

  private static void respond(HttpExchange exchange, Answer answer) throws IOException {
    byte[] body = answer.body().getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("content-type", answer.contentType());
    boolean head = "HEAD".equals(exchange.getRequestMethod());
    exchange.sendResponseHeaders(answer.status(), head ? -1 : body.length);
    if (!head) {
      try (var out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
    exchange.close();
  }

  public void stop() {
    servers.forEach(s -> s.stop(0));
    servers.clear();
    worker.shutdownNow();
  }

  private record Answer(int status, String contentType, String body) {
  }

  /** 200 when every check holds, else 503; the body names the checks that fail and why. */
  private Answer readiness() {
    List<Map<String, String>> failing = new ArrayList<>();
    for (Readiness check : checks) {
      Optional<String> problem;
      try {
        problem = check.problem().get();
      } catch (RuntimeException e) {
        problem = Optional.of("check failed: " + e);
      }
      problem.ifPresent(p -> failing.add(Map.of("check", check.name(), "problem", p)));
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("ready", failing.isEmpty());
    body.put("failing", failing);
    try {
      return new Answer(failing.isEmpty() ? 200 : 503, "application/json", JSON.writeValueAsString(body));
    } catch (JsonProcessingException e) {
      return new Answer(500, "text/plain", e.toString());
    }
  }
}
