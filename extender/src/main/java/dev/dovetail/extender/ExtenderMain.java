package dev.dovetail.extender;

import dev.dovetail.runtime.Launcher;
import dev.dovetail.runtime.LogOptions;
import dev.dovetail.runtime.Metrics;
import dev.dovetail.runtime.OpsOptions;
import dev.dovetail.runtime.OpsServer;
import dev.dovetail.runtime.Version;
import dev.dovetail.runtime.VersionProvider;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Command line of the scheduler extender. */
@Command(name = "dovetail-extender", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    sortOptions = false, usageHelpWidth = 110,
    description = {
        "Scheduler extender for kube-scheduler. kube-scheduler sends it the nodes that fit a pod; it answers",
        "which of them keep the pod's workload on its spot/on-demand distribution rule, and how to rank them.",
        "Configure kube-scheduler with manifests/scheduler (urlPrefix http://<host>:<port>/scheduler).",
        "Also serves GET /healthz and GET /readyz on its own port, and the probe/metrics ports below."})
public final class ExtenderMain implements Callable<Integer> {
  @Option(names = "--port", defaultValue = "${env:EXTENDER_PORT:-8888}",
      description = "Port kube-scheduler calls. Default: ${DEFAULT-VALUE}.")
  int port;

  @Mixin
  OpsOptions ops;

  @Mixin
  LogOptions logging;

  public static void main(String[] args) {
    System.exit(Launcher.run(new ExtenderMain(), args));
  }

  @Override
  public Integer call() throws Exception {
    logging.apply();
    Logger log = LoggerFactory.getLogger(ExtenderMain.class);
    String version = Version.of(ExtenderMain.class);
    PrometheusMeterRegistry registry = Metrics.registry("extender", version);
    Vertx vertx = Vertx.vertx();
    OpsServer opsServer = new OpsServer(registry);
    try {
      opsServer.start(vertx, ops).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      Router router = opsServer.mount(Router.router(vertx));
      HttpServer server = vertx.createHttpServer().requestHandler(router).listen(port, ops.bindAddress)
          .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      log.info("dovetail-extender {} listening on {}:{} (metrics :{}, probes :{})", version, ops.bindAddress, server.actualPort(),
          ops.metricsPort, ops.healthProbePort);
    } catch (Exception e) {
      log.error("dovetail-extender could not start: {}", e.getCause() != null ? e.getCause().getMessage() : e.getMessage());
      vertx.close();
      return 1;
    }
    return Launcher.awaitShutdown(() -> vertx.close().toCompletionStage().toCompletableFuture().join());
  }
}
