package dev.dovetail.runtime;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The operational endpoints of a component: {@code GET /healthz} (the process answers),
 * {@code GET /readyz} (every {@link Readiness} holds; 503 with the reasons otherwise) and
 * {@code GET /metrics} (Prometheus text format). Metrics and probes listen on separate ports, as
 * Karpenter's do, or share one when both ports are equal.
 */
public final class OpsServer {
  static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  private final List<Readiness> checks = new CopyOnWriteArrayList<>();
  private final List<HttpServer> servers = new CopyOnWriteArrayList<>();
  private final PrometheusMeterRegistry registry;
  private final Map<String, String> renames = new ConcurrentHashMap<>();

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

  /** Adds the probe and metrics routes to a router (for components that serve them on their own port). */
  public Router mount(Router router) {
    router.get("/healthz").handler(ctx -> ctx.response().putHeader("content-type", "text/plain").end("ok"));
    router.get("/readyz").handler(this::ready);
    router.get("/metrics").handler(this::metrics);
    return router;
  }

  /** Starts the servers; completes with the bound ports (metrics, health), useful when 0 was asked for. */
  public Future<int[]> start(Vertx vertx, OpsOptions options) {
    HttpServerOptions http = new HttpServerOptions().setHost(options.bindAddress);
    if (options.metricsPort == options.healthProbePort && options.metricsPort != 0) {
      return listen(vertx, http, mount(Router.router(vertx)), options.metricsPort).map(p -> new int[] {p, p});
    }
    Router metrics = Router.router(vertx);
    metrics.get("/metrics").handler(this::metrics);
    Router health = Router.router(vertx);
    health.get("/healthz").handler(ctx -> ctx.response().putHeader("content-type", "text/plain").end("ok"));
    health.get("/readyz").handler(this::ready);
    return listen(vertx, http, metrics, options.metricsPort)
        .compose(m -> listen(vertx, http, health, options.healthProbePort).map(h -> new int[] {m, h}));
  }

  private Future<Integer> listen(Vertx vertx, HttpServerOptions options, Router router, int port) {
    return vertx.createHttpServer(options).requestHandler(router).listen(port)
        .onSuccess(servers::add)
        .map(HttpServer::actualPort)
        .recover(e -> Future.failedFuture(new IllegalStateException(
            "cannot listen on " + options.getHost() + ":" + port + " (" + e.getMessage() + "); is the port in use?", e)));
  }

  public Future<Void> stop() {
    return Future.all(servers.stream().map(HttpServer::close).toList()).mapEmpty();
  }

  private void ready(RoutingContext ctx) {
    JsonArray failing = new JsonArray();
    for (Readiness check : checks) {
      Optional<String> problem;
      try {
        problem = check.problem().get();
      } catch (RuntimeException e) {
        problem = Optional.of("check failed: " + e);
      }
      problem.ifPresent(p -> failing.add(new JsonObject().put("check", check.name()).put("problem", p)));
    }
    JsonObject body = new JsonObject().put("ready", failing.isEmpty()).put("failing", failing);
    ctx.response().setStatusCode(failing.isEmpty() ? 200 : 503).putHeader("content-type", "application/json").end(body.encode());
  }

  private void metrics(RoutingContext ctx) {
    // A scrape walks every meter (one per pod for karpenter_pods_state): not on the event loop.
    ctx.vertx().executeBlocking(this::scrape, false).onComplete(done -> {
      if (done.succeeded()) {
        ctx.response().putHeader("content-type", PROMETHEUS_TEXT).end(done.result());
      } else {
        ctx.response().setStatusCode(500).end(String.valueOf(done.cause()));
      }
    });
  }
}
