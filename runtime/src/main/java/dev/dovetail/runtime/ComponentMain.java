package dev.dovetail.runtime;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every Dovetail component does around its own work: configure logging, create the metrics
 * registry (and Vert.x for those that use it), serve /healthz, /readyz and /metrics, start the component, and on
 * SIGTERM close what it opened. A component that fails to start logs why and exits with status 1.
 */
public final class ComponentMain {
  private ComponentMain() {
  }

  /** The shared pieces a component starts with; {@link #closeOnShutdown} registers its own resources. */
  public static final class Runtime {
    private Vertx vertx;
    private final PrometheusMeterRegistry registry;
    private final OpsServer ops;
    private final String version;
    private final List<AutoCloseable> resources = new ArrayList<>();

    Runtime(PrometheusMeterRegistry registry, OpsServer ops, String version) {
      this.registry = registry;
      this.ops = ops;
      this.version = version;
    }

    /** Vert.x, created on first use: components without an HTTP API of their own (the per-node agent) never pay for it. */
    public synchronized Vertx vertx() {
      if (vertx == null) {
        vertx = Vertx.vertx();
      }
      return vertx;
    }

    public PrometheusMeterRegistry registry() {
      return registry;
    }

    public OpsServer ops() {
      return ops;
    }

    public String version() {
      return version;
    }

    /** Closed in reverse order of registration, before Vert.x. */
    public <T extends AutoCloseable> T closeOnShutdown(T resource) {
      resources.add(resource);
      return resource;
    }

    void close(Logger log) {
      for (int i = resources.size() - 1; i >= 0; i--) {
        try {
          resources.get(i).close();
        } catch (Exception e) {
          log.warn("closing {} failed: {}", resources.get(i), e.toString());
        }
      }
      ops.stop();
      synchronized (this) {
        if (vertx == null) {
          return;
        }
      }
      try {
        vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        log.warn("closing Vert.x failed: {}", e.toString());
      }
    }
  }

  /** Starts the component proper; returns a short description of what runs, for the start-up log line. */
  @FunctionalInterface
  public interface Startup {
    String start(Runtime runtime) throws Exception;
  }

  /** Runs a component until the JVM is asked to stop; returns the process exit status. */
  public static int run(String component, Class<?> main, LogOptions logging, OpsOptions ops, Startup startup) {
    logging.apply();
    Logger log = LoggerFactory.getLogger(main);
    String version = Version.of(main);
    PrometheusMeterRegistry registry = Metrics.registry(component, version);
    Runtime runtime = new Runtime(registry, new OpsServer(registry), version);
    try {
      int[] ports = runtime.ops.start(ops);
      String what = startup.start(runtime);
      log.info("dovetail-{} {} started: {} (metrics :{}, probes :{})", component, version, what, ports[0], ports[1]);
    } catch (Exception e) {
      Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
      // The message alone can say little ("An error has occurred."): the type and the stack go with it.
      log.error("dovetail-{} could not start: {}", component, cause.toString(), cause);
      runtime.close(log);
      return 1;
    }
    return Launcher.awaitShutdown(() -> runtime.close(log));
  }
}
