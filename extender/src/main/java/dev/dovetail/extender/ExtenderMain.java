package dev.dovetail.extender;

import dev.dovetail.runtime.ComponentMain;
import dev.dovetail.runtime.Launcher;
import dev.dovetail.runtime.LogOptions;
import dev.dovetail.runtime.OpsOptions;
import dev.dovetail.runtime.VersionProvider;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
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
      Router router = runtime.ops().mount(Router.router(runtime.vertx()));
      HttpServer server = runtime.vertx().createHttpServer().requestHandler(router).listen(port, ops.bindAddress)
          .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      return "listening on " + ops.bindAddress + ":" + server.actualPort();
    });
  }
}
