package dev.dovetail.provisioner;

import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.extender.ExtenderServer;
import dev.dovetail.extender.decision.Decisions;
import dev.dovetail.extender.decision.InFlightTable;
import dev.dovetail.state.ClusterView;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The scheduler extender on 127.0.0.1:8888, where manifests/scheduler/local-extender.yaml has
 * kube-scheduler call it, deciding from the provisioner's own cluster view (one set of caches, as
 * when both run in one process).
 */
final class LocalExtender implements AutoCloseable {
  static final int PORT = 8888;
  private final Vertx vertx;

  private LocalExtender(Vertx vertx) {
    this.vertx = vertx;
  }

  static LocalExtender start(ClusterView view, MeterRegistry registry) throws Exception {
    try (Socket probe = new Socket()) {
      probe.connect(new InetSocketAddress("127.0.0.1", PORT), 200);
      throw new IllegalStateException("port " + PORT + " is in use (a demo extender?); the scheduler config of this test calls it");
    } catch (IOException free) {
      // nothing listens: good
    }
    Vertx vertx = Vertx.vertx();
    Decisions decisions = new Decisions(view, new InFlightTable(), Set.of("kube-system"), Catalog.bundled());
    Router router = new ExtenderServer(decisions, registry, 16 << 20).mount(vertx, Router.router(vertx));
    vertx.createHttpServer().requestHandler(router).listen(PORT, "127.0.0.1").toCompletionStage().toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    return new LocalExtender(vertx);
  }

  @Override
  public void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
