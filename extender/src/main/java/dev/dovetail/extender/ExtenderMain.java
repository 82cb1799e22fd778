package dev.dovetail.extender;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.extender.decision.Decisions;
import dev.dovetail.extender.decision.InFlightTable;
import dev.dovetail.runtime.ComponentMain;
import dev.dovetail.runtime.DurationConverter;
import dev.dovetail.runtime.KubeClients;
import dev.dovetail.runtime.KubeOptions;
import dev.dovetail.runtime.Launcher;
import dev.dovetail.runtime.LogOptions;
import dev.dovetail.runtime.OpsOptions;
import dev.dovetail.runtime.Readiness;
import dev.dovetail.runtime.VersionProvider;
import dev.dovetail.state.InformerClusterView;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.Gauge;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
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

  @Option(names = "--max-request-bytes", defaultValue = "16777216",
      description = "Largest request body accepted; larger ones get 413. Default: ${DEFAULT-VALUE} (16 MiB).")
  long maxRequestBytes;

  @Option(names = "--exempt-namespaces", split = ",", defaultValue = "kube-system",
      description = "Namespaces whose pods the distribution never governs (the extender's own namespace is added). "
          + "Default: ${DEFAULT-VALUE}.")
  List<String> exemptNamespaces;

  @Option(names = "--in-flight-ttl", defaultValue = "60s", converter = DurationConverter.class,
      description = "How long a placement decided for a pod not yet bound is remembered. Default: ${DEFAULT-VALUE}.")
  Duration inFlightTtl;

  @Mixin
  KubeOptions kube;

  @Mixin
  OpsOptions ops;

  @Mixin
  LogOptions logging;

  public static void main(String[] args) {
    System.exit(Launcher.run(new ExtenderMain(), args));
  }

  @Override
  public Integer call() {
    return ComponentMain.run("extender", ExtenderMain.class, logging, ops, runtime -> {
      KubernetesClient client = runtime.closeOnShutdown(KubeClients.connect(kube));
      Catalog catalog = Catalog.bundled();
      InformerClusterView view = runtime.closeOnShutdown(new InformerClusterView(catalog, runtime.registry()).derivedStateOnly().start(client));
      Set<String> exempt = new LinkedHashSet<>(exemptNamespaces);
      Optional.ofNullable(System.getenv("POD_NAMESPACE")).ifPresent(exempt::add);
      InFlightTable inFlight = new InFlightTable(inFlightTtl, Ticker.systemTicker());
      Gauge.builder("dovetail.extender.inflight", inFlight, InFlightTable::size)
          .description("Pods with a placement decided but not yet seen bound").register(runtime.registry());
      Decisions decisions = new Decisions(view, inFlight, exempt, catalog);
      runtime.ops().withReadiness(new Readiness("informers", () -> view.synced() ? Optional.empty()
          : Optional.of("caches have not listed nodes, pods, workloads and rules yet")));
      Router router = new ExtenderServer(decisions, runtime.registry(), maxRequestBytes).mount(runtime.vertx(), Router.router(runtime.vertx()));
      runtime.ops().mount(router);
      HttpServer server = runtime.vertx().createHttpServer(new HttpServerOptions().setIdleTimeout(60).setIdleTimeoutUnit(TimeUnit.SECONDS))
          .requestHandler(router).listen(port, ops.bindAddress)
          .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      return "scheduler extender on " + ops.bindAddress + ":" + server.actualPort() + ExtenderServer.PREFIX + ", exempt namespaces " + exempt;
    });
  }
}
