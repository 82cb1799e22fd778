package dev.dovetail.extender.bench;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.distribution.RuleSet;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec.Selector;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec.Strategy;
import dev.dovetail.api.scheduling.Resources;
import dev.dovetail.extender.ExtenderServer;
import dev.dovetail.extender.Fixtures;
import dev.dovetail.extender.Requests;
import dev.dovetail.extender.decision.Decisions;
import dev.dovetail.extender.decision.InFlightTable;
import dev.dovetail.extender.protocol.CandidateNode;
import dev.dovetail.extender.protocol.ExtenderArgs;
import dev.dovetail.extender.protocol.ExtenderArgsParser;
import dev.dovetail.extender.protocol.Responses;
import dev.dovetail.state.MemoryClusterView;
import dev.dovetail.state.Workload;
import dev.dovetail.state.WorkloadKey;
import dev.dovetail.testkit.BenchReport;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Extender server time and HTTP throughput in node-cache mode at 100, 1,000 and 5,000 nodes (every node
 * offered in every call, as with percentageOfNodesToScore: 100). Server time = parse + decide + encode
 * of one call, measured in-process per call; HTTP = filter+prioritize pairs over loopback from
 * concurrent clients against the real Vert.x server. Run by scripts/bench-extender.
 */
public final class ExtenderServerBench {
  private static final String[] TYPES = {"m5.xlarge", "m5.2xlarge", "c5.2xlarge", "r5.xlarge", "m6i.2xlarge", "c6i.4xlarge"};
  private static final String[] ZONES = {"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"};

  public static void main(String[] args) throws Exception {
    int[] sizes = args.length > 0 ? Arrays.stream(args[0].split(",")).mapToInt(Integer::parseInt).toArray() : new int[] {100, 1000, 5000};
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    System.out.println("Extender benchmark on " + BenchReport.machine());
    System.out.println();
    System.out.println("| nodes | filter p50 µs | filter p99 µs | prioritize p50 µs | prioritize p99 µs | HTTP pairs/s | HTTP filter+prioritize p50 µs | p99 µs |");
    System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (int n : sizes) {
      run(n, seconds);
    }
  }

  private static Decisions decisions(int nodes) {
    MemoryClusterView view = new MemoryClusterView();
    for (int i = 0; i < nodes; i++) {
      CapacityType type = i % 2 == 0 ? CapacityType.SPOT : CapacityType.ON_DEMAND;
      view.node(Fixtures.node("node-" + i, type, ZONES[i % ZONES.length], TYPES[i % TYPES.length]));
    }
    WorkloadKey web = new WorkloadKey("shop", "Deployment", "web");
    view.workload("ReplicaSet", "web-1", new Workload(web, 200));
    for (int i = 0; i < 60; i++) {
      view.pod("placed-" + i, web, Optional.of("node-" + (i * 7 % nodes)), Resources.of("cpu", "500m", "memory", "1Gi", "pods", "1"));
    }
    view.rules(RuleSet.of(List.of(Fixtures.rule("cluster", null, 70, 2, Selector.SpotReady, Strategy.CostOptimized))));
    return new Decisions(view, new InFlightTable(), Set.of("kube-system"), Catalog.bundled());
  }

  private static void run(int nodes, int seconds) throws Exception {
    Decisions decisions = decisions(nodes);
    String[] names = new String[nodes];
    for (int i = 0; i < nodes; i++) {
      names[i] = "node-" + i;
    }
    int variants = 64;
    byte[][] bodies = new byte[variants][];
    for (int v = 0; v < variants; v++) {
      bodies[v] = Requests.nodeCache("shop", "web-1-" + v, "uid-" + v, "web-1", names);
    }
    int warmup = nodes >= 5000 ? 3000 : 10000;
    int measured = nodes >= 5000 ? 5000 : 20000;
    long[] filter = new long[measured];
    long[] prioritize = new long[measured];
    for (int i = 0; i < warmup + measured; i++) {
      byte[] body = bodies[i % variants];
      long t0 = System.nanoTime();
      ExtenderArgs args = ExtenderArgsParser.parse(body);
      Decisions.FilterVerdict verdict = decisions.filter(args);
      byte[] reply = Responses.filter(verdict.result(), args);
      long t1 = System.nanoTime();
      String[] passed = verdict.result().passed().stream().map(CandidateNode::name).toArray(String[]::new);
      byte[] prioritizeBody = Requests.nodeCache("shop", "web-1-" + (i % variants), "uid-" + (i % variants), "web-1", passed);
      long t2 = System.nanoTime();
      ExtenderArgs pargs = ExtenderArgsParser.parse(prioritizeBody);
      byte[] scores = Responses.prioritize(decisions.prioritize(pargs).priorities());
      long t3 = System.nanoTime();
      if (i >= warmup) {
        filter[i - warmup] = t1 - t0;
        prioritize[i - warmup] = t3 - t2;
      }
      if (reply.length == 0 || scores.length == 0) {
        throw new IllegalStateException("empty reply");
      }
    }
    double[] http = http(decisions, bodies, names, seconds);
    System.out.printf("| %,d | %.0f | %.0f | %.0f | %.0f | %,.0f | %.0f | %.0f |%n", nodes,
        BenchReport.percentileMicros(filter, 50), BenchReport.percentileMicros(filter, 99),
        BenchReport.percentileMicros(prioritize, 50), BenchReport.percentileMicros(prioritize, 99),
        http[0], http[1], http[2]);
  }

  /** Requests per second (filter+prioritize pairs) and client-side pair latency p50/p99 over loopback HTTP. */
  private static double[] http(Decisions decisions, byte[][] bodies, String[] names, int seconds) throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      Router router = new ExtenderServer(decisions, new SimpleMeterRegistry(), 64 << 20).mount(vertx, Router.router(vertx));
      HttpServer server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1")
          .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      WebClient client = WebClient.create(vertx, new WebClientOptions().setKeepAlive(true), new PoolOptions().setHttp1MaxSize(8));
      int concurrency = 4;
      long warmupEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
      long end = warmupEnd + TimeUnit.SECONDS.toNanos(seconds);
      AtomicLong pairs = new AtomicLong();
      List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
      List<Future<Void>> loops = new ArrayList<>();
      for (int c = 0; c < concurrency; c++) {
        Promise<Void> done = Promise.promise();
        int seed = c;
        vertx.runOnContext(v -> loop(client, server.actualPort(), bodies, seed, warmupEnd, end, pairs, latencies, done));
        loops.add(done.future());
      }
      Future.all(loops).toCompletionStage().toCompletableFuture().get(seconds + 60, TimeUnit.SECONDS);
      long[] lat = latencies.stream().mapToLong(Long::longValue).toArray();
      return new double[] {pairs.get() / (double) seconds, BenchReport.percentileMicros(lat, 50), BenchReport.percentileMicros(lat, 99)};
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** One client: filter then prioritize, again and again until {@code end}; each round starts from an I/O callback. */
  private static void loop(WebClient client, int port, byte[][] bodies, int seed, long warmupEnd, long end,
      AtomicLong pairs, List<Long> latencies, Promise<Void> done) {
    long now = System.nanoTime();
    if (now >= end) {
      done.tryComplete();
      return;
    }
    byte[] body = bodies[(int) ((now + seed) % bodies.length)];
    client.post(port, "127.0.0.1", "/scheduler/filter").sendBuffer(Buffer.buffer(body))
        .compose(r -> client.post(port, "127.0.0.1", "/scheduler/prioritize").sendBuffer(Buffer.buffer(body)))
        .onComplete(ar -> {
          if (ar.failed() || ar.result().statusCode() != 200) {
            done.tryFail(ar.failed() ? ar.cause().toString() : "HTTP " + ar.result().statusCode());
            return;
          }
          if (now >= warmupEnd) {
            pairs.incrementAndGet();
            latencies.add(System.nanoTime() - now);
          }
          loop(client, port, bodies, seed + 1, warmupEnd, end, pairs, latencies, done);
        });
  }
}
