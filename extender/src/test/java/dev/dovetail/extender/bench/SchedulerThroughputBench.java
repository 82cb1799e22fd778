package dev.dovetail.extender.bench;

import dev.dovetail.testkit.BenchReport;

import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.harness.v1.Distribution;
import dev.dovetail.api.harness.v1.WorkloadDistributionRule;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec.Strategy;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.extender.ExtenderServer;
import dev.dovetail.extender.decision.Decisions;
import dev.dovetail.extender.decision.InFlightTable;
import dev.dovetail.state.InformerClusterView;
import dev.dovetail.testkit.ControlPlaneExtension;
import dev.dovetail.testkit.KwokCluster;
import dev.dovetail.testkit.RepoPaths;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

/**
 * kube-scheduler throughput with and without the Dovetail extender, in one run: a kwokctl cluster with
 * 1,000 fake nodes (half spot, half on-demand) and a 70/30 rule; kube-scheduler is paused while 2,000
 * pods of one workload are created, then resumed, and the time until every pod is bound is measured.
 * Pausing isolates scheduling from pod creation. Run by scripts/bench-extender.
 */
public final class SchedulerThroughputBench {
  private static final String[] ZONES = {"us-east-1a", "us-east-1b", "us-east-1c"};
  /**
   * Rounds that warm up: kube-scheduler's caches and this JVM's JIT, which on 2 cores compiles for
   * seconds of CPU through the first two rounds and for up to a second in the third (a running extender has long
   * been compiled).
   */
  private static final int WARMUP = 3;
  private static final int ROUNDS = 6;

  /** Seconds of each round; the median of those after the warm-up is the figure. */
  private record Result(String mode, double[] rounds, int pods, Map<String, Integer> split) {
    double seconds() {
      double[] warm = java.util.Arrays.copyOfRange(rounds, WARMUP, rounds.length);
      java.util.Arrays.sort(warm);
      return warm.length % 2 == 1 ? warm[warm.length / 2] : (warm[warm.length / 2 - 1] + warm[warm.length / 2]) / 2;
    }
  }

  public static void main(String[] args) throws Exception {
    int nodes = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int pods = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
    boolean pin = args.length > 2 && args[2].equals("pin");
    System.out.println("kube-scheduler throughput on " + BenchReport.machine());
    if (pin) {
      System.out.println("pinned: kube-scheduler alone on CPU 0; etcd, kube-apiserver, kube-controller-manager, kwok and this JVM on CPU 1");
    }
    System.out.println("without extender:");
    Result without = run(false, nodes, pods, pin);
    System.out.println("with extender:");
    Result with = run(true, nodes, pods, pin);
    System.out.println();
    System.out.printf("| mode | nodes | pods | seconds to bind all (median of rounds %d-%d) | rounds %d-%d | pods/s | placed spot / on-demand |%n"
        + "|---|---:|---:|---:|---|---:|---|%n", WARMUP + 1, ROUNDS, WARMUP + 1, ROUNDS);
    for (Result r : new Result[] {without, with}) {
      String rounds = java.util.Arrays.stream(r.rounds()).skip(WARMUP).mapToObj(x -> String.format("%.2f", x))
          .collect(java.util.stream.Collectors.joining(" / "));
      System.out.printf("| %s | %,d | %,d | %.2f | %s | %.0f | %s |%n", r.mode(), nodes, r.pods(), r.seconds(), rounds, r.pods() / r.seconds(),
          r.split().getOrDefault("spot", 0) + " / " + r.split().getOrDefault("on-demand", 0));
    }
    System.out.printf("%nthroughput with the extender = %.0f%% of without (medians of rounds %d-%d; last round alone: %.0f%%)%n",
        100 * without.seconds() / with.seconds(), WARMUP + 1, ROUNDS, 100 * without.rounds()[ROUNDS - 1] / with.rounds()[ROUNDS - 1]);
  }

  private static Result run(boolean extender, int nodeCount, int podCount, boolean pin) throws Exception {
    String config = "extender/src/test/resources/bench/" + (extender ? "with" : "without") + "-extender.yaml";
    try (KwokCluster cluster = KwokCluster.start(Optional.of(RepoPaths.root().resolve(config)))) {
      KubernetesClient client = cluster.client();
      ControlPlaneExtension.installCrds(client);
      Vertx vertx = null;
      InformerClusterView view = null;
      ExecutorService pool = Executors.newFixedThreadPool(16);
      SimpleMeterRegistry extenderMetrics = new SimpleMeterRegistry();
      try {
        parallel(pool, nodeCount, i -> client.nodes().resource(new NodeBuilder().withNewMetadata().withName("bench-" + i)
            .addToLabels(WellKnownLabels.CAPACITY_TYPE, i % 2 == 0 ? "spot" : "on-demand")
            .addToLabels(WellKnownLabels.ZONE, ZONES[i % 3]).addToLabels(WellKnownLabels.INSTANCE_TYPE, "m5.2xlarge")
            .addToLabels("kubernetes.io/hostname", "bench-" + i).addToAnnotations("kwok.x-k8s.io/node", "fake").endMetadata()
            .withNewStatus().addToAllocatable("cpu", new Quantity("8")).addToAllocatable("memory", new Quantity("32Gi"))
            .addToAllocatable("pods", new Quantity("110")).addToCapacity("cpu", new Quantity("8"))
            .addToCapacity("memory", new Quantity("32Gi")).addToCapacity("pods", new Quantity("110")).endStatus().build()).create());
        waitFor("nodes Ready", Duration.ofMinutes(5), () -> client.nodes().list().getItems().stream().filter(n -> n.getStatus()
            .getConditions() != null && n.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()))).count() >= nodeCount);

        WorkloadDistributionRule rule = new WorkloadDistributionRule();
        rule.getMetadata().setName("bench");
        rule.setSpec(new WorkloadDistributionRuleSpec(null, new Distribution(70, 30), "SpotReady", 0, Strategy.CostOptimized));
        client.resources(WorkloadDistributionRule.class).resource(rule).create();
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("bench").endMetadata().build()).create();
        ConfigMap owner = client.configMaps().inNamespace("bench").resource(new ConfigMapBuilder()
            .withNewMetadata().withName("bench-owner").endMetadata().build()).create();

        if (extender) {
          view = new InformerClusterView(Catalog.bundled(), new SimpleMeterRegistry()).derivedStateOnly().start(client);
          vertx = Vertx.vertx();
          Decisions decisions = new Decisions(view, new InFlightTable(), Set.of("kube-system"), Catalog.bundled());
          Router router = new ExtenderServer(decisions, extenderMetrics, 64 << 20).mount(vertx, Router.router(vertx));
          vertx.createHttpServer().requestHandler(router).listen(8888, "127.0.0.1").toCompletionStage().toCompletableFuture()
              .get(10, TimeUnit.SECONDS);
          InformerClusterView v = view;
          waitFor("extender caches (synced " + v.synced() + ")", Duration.ofMinutes(2),
              () -> v.synced() && v.rules().forNamespace("bench").isPresent());
        }

        long scheduler = cluster.pid("kube-scheduler");
        if (pin) {
          // As on a real control plane, kube-scheduler gets a core of its own.
          taskset("0", scheduler);
          for (String c : new String[] {"etcd", "kube-apiserver", "kube-controller-manager", "kwok-controller"}) {
            taskset("1", cluster.pid(c));
          }
          taskset("1", ProcessHandle.current().pid());
        }
        // The same burst ROUNDS times: the first WARMUP warm up; the median of the others is the result, as
        // single rounds vary by a second or more on a shared 2-core machine.
        double[] seconds = new double[ROUNDS];
        for (int round = 1; round <= ROUNDS; round++) {
          seconds[round - 1] = burst(cluster, client, pool, owner, podCount, extender ? extenderMetrics : null, round);
          if (round < ROUNDS) {
            client.pods().inNamespace("bench").withGracePeriod(0).delete();
            waitFor("pods gone", Duration.ofMinutes(5), () -> client.pods().inNamespace("bench")
                .list(new ListOptionsBuilder().withLimit(1L).build()).getItems().isEmpty());
          }
        }
        Map<String, Integer> split = new ConcurrentHashMap<>();
        for (Pod p : client.pods().inNamespace("bench").list().getItems()) {
          String node = p.getSpec().getNodeName();
          split.merge(Integer.parseInt(node.substring("bench-".length())) % 2 == 0 ? "spot" : "on-demand", 1, Integer::sum);
        }
        return new Result(extender ? "with extender" : "without extender", seconds, podCount, split);
      } finally {
        pool.shutdownNow();
        if (vertx != null) {
          vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        if (view != null) {
          view.close();
        }
      }
    }
  }

  /** Pauses kube-scheduler, creates the pods, resumes it and times until every pod is bound. */
  private static double burst(KwokCluster cluster, KubernetesClient client, ExecutorService pool, ConfigMap owner, int podCount,
      SimpleMeterRegistry extenderMetrics, int round) throws Exception {
    long scheduler = cluster.pid("kube-scheduler");
    signal("STOP", scheduler);
    createPods(pool, client, "bench-" + round + "-", podCount, owner);
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    long cpu0 = os.getProcessCpuTime();
    Map<String, Long> threads0 = threadCpuByKind();
    long gc0 = gcMillis();
    long jit0 = java.lang.management.ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
    long calls0 = extenderMetrics == null ? 0 : calls(extenderMetrics);
    long start = System.nanoTime();
    signal("CONT", scheduler);
    // Polls for any pod still unbound (limit 1): cheaper for the API server and this JVM than a watch.
    waitFor("every pod bound", Duration.ofMinutes(10), () -> client.pods().inNamespace("bench")
        .withField("spec.nodeName", "").list(new ListOptionsBuilder().withLimit(1L).build()).getItems().isEmpty());
    double seconds = (System.nanoTime() - start) / 1e9;
    System.out.printf("  round %d: %,d pods bound in %.2f s; this JVM used %.2f CPU-s", round, podCount, seconds,
        (os.getProcessCpuTime() - cpu0) / 1e9);
    Map<String, Long> threads1 = threadCpuByKind();
    threads1.forEach((kind, ns) -> {
      double used = (ns - threads0.getOrDefault(kind, 0L)) / 1e9;
      if (used >= 0.05) {
        System.out.printf(" (%s %.2f)", kind, used);
      }
    });
    System.out.printf(", GC pauses %d ms, JIT %d ms", gcMillis() - gc0,
        java.lang.management.ManagementFactory.getCompilationMXBean().getTotalCompilationTime() - jit0);
    if (extenderMetrics != null) {
      System.out.printf(", %d extender calls", calls(extenderMetrics) - calls0);
    }
    System.out.println();
    return seconds;
  }

  private static long calls(SimpleMeterRegistry registry) {
    return registry.find("dovetail.extender.request.duration").timers().stream().mapToLong(io.micrometer.core.instrument.Timer::count).sum();
  }

  /** {@code n} pods of one workload (a ConfigMap stands in for their controller), 100m CPU and 128Mi each. */
  private static void createPods(ExecutorService pool, KubernetesClient client, String prefix, int n, ConfigMap owner) throws Exception {
    parallel(pool, n, i -> client.pods().inNamespace("bench").resource(new PodBuilder().withNewMetadata()
        .withName(prefix + i).withOwnerReferences(new OwnerReferenceBuilder().withApiVersion("v1").withKind("ConfigMap")
            .withName(owner.getMetadata().getName()).withUid(owner.getMetadata().getUid()).withController(true).build()).endMetadata()
        .withNewSpec().addNewContainer().withName("c").withImage("registry.k8s.io/pause:3.10").withNewResources()
        .addToRequests("cpu", new Quantity("100m")).addToRequests("memory", new Quantity("128Mi")).endResources()
        .endContainer().endSpec().build()).create());
  }

  private static void parallel(ExecutorService pool, int n, IntConsumer task) throws Exception {
    List<Future<?>> futures = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int index = i;
      futures.add(pool.submit(() -> task.accept(index)));
    }
    for (Future<?> f : futures) {
      f.get(5, TimeUnit.MINUTES);
    }
  }

  private static long gcMillis() {
    return java.lang.management.ManagementFactory.getGarbageCollectorMXBeans().stream()
        .mapToLong(java.lang.management.GarbageCollectorMXBean::getCollectionTime).sum();
  }

  /** CPU time of this JVM's threads, grouped: cache (informer HTTP and decoding), extender (Vert.x), other. */
  private static Map<String, Long> threadCpuByKind() {
    java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
    Map<String, Long> out = new java.util.TreeMap<>();
    for (java.lang.management.ThreadInfo t : mx.getThreadInfo(mx.getAllThreadIds())) {
      if (t == null) {
        continue;
      }
      long cpu = mx.getThreadCpuTime(t.getThreadId());
      String name = t.getThreadName();
      String kind = name.startsWith("vert.x-eventloop") ? "extender requests"
          : name.startsWith("JdkHttpClient") || name.startsWith("HttpClient") || name.contains("Informer") || name.contains("informer")
              ? "informers" : "other";
      out.merge(kind, Math.max(0, cpu), Long::sum);
    }
    return out;
  }

  /** Pins every thread of a process to the given CPUs. */
  private static void taskset(String cpus, long pid) throws Exception {
    Process p = new ProcessBuilder("taskset", "-a", "-p", "-c", cpus, Long.toString(pid)).redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    if (p.waitFor() != 0) {
      throw new IllegalStateException("taskset " + cpus + " " + pid + " failed");
    }
  }

  private static void signal(String signal, long pid) throws Exception {
    Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
    if (p.waitFor() != 0) {
      throw new IllegalStateException("kill -" + signal + " " + pid + " failed");
    }
  }

  private static void waitFor(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out waiting for " + what);
      }
      Thread.sleep(100);
    }
  }
}
