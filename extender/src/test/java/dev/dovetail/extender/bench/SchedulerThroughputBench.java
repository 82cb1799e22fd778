package dev.dovetail.extender.bench;

import com.sun.management.OperatingSystemMXBean;
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
import dev.dovetail.testkit.BenchReport;
import dev.dovetail.testkit.ControlPlaneExtension;
import dev.dovetail.testkit.K8sBinaries;
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
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;
import java.util.stream.Collectors;

/**
 * kube-scheduler throughput with and without the Dovetail extender, as an A/B in one cluster: a kwokctl
 * cluster with 1,000 fake nodes (half spot, half on-demand) and a 70/30 rule runs two kube-schedulers,
 * kwokctl's own ({@code default-scheduler}, no extender) and a second one ({@code dovetail-scheduler}, calling
 * the extender). Rounds alternate between them (A B B A ...), so both see the same API server, etcd and
 * machine state; each round pauses its scheduler while 2,000 pods of one workload are created, then resumes
 * it and times until every pod is bound. The other scheduler, and the extender's caches, are stopped
 * through the rounds they are not measured in. Run by scripts/bench-extender.
 */
public final class SchedulerThroughputBench {
  private static final String[] ZONES = {"us-east-1a", "us-east-1b", "us-east-1c"};
  private static final String WITH_EXTENDER = "dovetail-scheduler";
  /**
   * Pairs of rounds that warm up: kube-scheduler's caches and this JVM's JIT, which on 2 cores compiles for
   * seconds of CPU through the first rounds with the extender (a running extender has long been compiled).
   */
  private static final int WARMUP = 3;
  private static final int ROUNDS = 8;

  /** Seconds of each round; the median of those after the warm-up is the figure. */
  private record Result(String mode, double[] rounds, int pods, Map<String, Integer> split) {
    double seconds() {
      double[] warm = Arrays.copyOfRange(rounds, WARMUP, rounds.length);
      Arrays.sort(warm);
      return warm.length % 2 == 1 ? warm[warm.length / 2] : (warm[warm.length / 2 - 1] + warm[warm.length / 2]) / 2;
    }
  }

  public static void main(String[] args) throws Exception {
    int nodes = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int pods = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
    Pinning pin = args.length > 2 ? Pinning.of(args[2]) : Pinning.NONE;
    System.out.println("kube-scheduler throughput on " + BenchReport.machine());
    System.out.printf("A/B in one cluster: %d pairs of rounds (order A B, B A, ...), the first %d pairs warm up%n", ROUNDS, WARMUP);
    if (pin != Pinning.NONE) {
      System.out.println("pinned: " + pin.description);
    }
    Result[] results = run(nodes, pods, pin);
    Result without = results[0];
    Result with = results[1];
    System.out.println();
    System.out.printf("| mode | nodes | pods | seconds to bind all (median of rounds %d-%d) | rounds %d-%d | pods/s | placed spot / on-demand |%n"
        + "|---|---:|---:|---:|---|---:|---|%n", WARMUP + 1, ROUNDS, WARMUP + 1, ROUNDS);
    for (Result r : results) {
      String rounds = Arrays.stream(r.rounds()).skip(WARMUP).mapToObj(x -> String.format("%.2f", x))
          .collect(Collectors.joining(" / "));
      System.out.printf("| %s | %,d | %,d | %.2f | %s | %.0f | %s |%n", r.mode(), nodes, r.pods(), r.seconds(), rounds, r.pods() / r.seconds(),
          r.split().getOrDefault("spot", 0) + " / " + r.split().getOrDefault("on-demand", 0));
    }
    double[] pairRatios = new double[ROUNDS - WARMUP];
    for (int i = WARMUP; i < ROUNDS; i++) {
      pairRatios[i - WARMUP] = without.rounds()[i] / with.rounds()[i];
    }
    Arrays.sort(pairRatios);
    System.out.printf("%nthroughput with the extender = %.0f%% of without (medians of rounds %d-%d; pair by pair %.0f%%-%.0f%%)%n",
        100 * without.seconds() / with.seconds(), WARMUP + 1, ROUNDS, 100 * pairRatios[0], 100 * pairRatios[pairRatios.length - 1]);
  }

  /** Where the processes run: anywhere, or kube-scheduler on a core of its own and the extender on one side. */
  private enum Pinning {
    NONE(""),
    /** The extender away from the scheduler, on the core of etcd and the API server: its worst case. */
    APART("both kube-schedulers alone on CPU 0; etcd, kube-apiserver, kube-controller-manager, kwok and the extender's JVM on CPU 1"),
    /** As manifests/extender deploys it: a sidecar in the scheduler's pod, so on the scheduler's CPUs. */
    SIDECAR("both kube-schedulers and the extender's JVM on CPU 0; etcd, kube-apiserver, kube-controller-manager and kwok on CPU 1");

    final String description;

    Pinning(String description) {
      this.description = description;
    }

    static Pinning of(String arg) {
      return switch (arg) {
        case "pin", "pin-apart" -> APART;
        case "pin-sidecar" -> SIDECAR;
        default -> throw new IllegalArgumentException("unknown pinning '" + arg + "' (pin-apart, pin-sidecar)");
      };
    }
  }

  private static Result[] run(int nodeCount, int podCount, Pinning pin) throws Exception {
    Path without = RepoPaths.root().resolve("extender/src/test/resources/bench/without-extender.yaml");
    try (KwokCluster cluster = KwokCluster.start(Optional.of(without))) {
      KubernetesClient client = cluster.client();
      ControlPlaneExtension.installCrds(client);
      ExecutorService pool = Executors.newFixedThreadPool(16);
      SimpleMeterRegistry extenderMetrics = new SimpleMeterRegistry();
      Vertx vertx = Vertx.vertx();
      AtomicReference<Router> extender = new AtomicReference<>();
      Process second = null;
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

        // The extender's HTTP server stays up; its caches (and so its decisions) exist only through the
        // rounds with the extender, so the rounds without it pay nothing for it.
        vertx.createHttpServer().requestHandler(request -> {
          Router router = extender.get();
          if (router == null) {
            request.response().setStatusCode(503).end();
          } else {
            router.handle(request);
          }
        }).listen(8888, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        second = startSecondScheduler(cluster);

        long defaultScheduler = cluster.pid("kube-scheduler");
        long dovetailScheduler = second.pid();
        if (pin != Pinning.NONE) {
          // As on a real control plane, kube-scheduler does not share a core with etcd and the API server.
          taskset("0", defaultScheduler);
          taskset("0", dovetailScheduler);
          for (String c : new String[] {"etcd", "kube-apiserver", "kube-controller-manager", "kwok-controller"}) {
            taskset("1", cluster.pid(c));
          }
          taskset(pin == Pinning.SIDECAR ? "0" : "1", ProcessHandle.current().pid());
        }
        double[] withoutSeconds = new double[ROUNDS];
        double[] withSeconds = new double[ROUNDS];
        Map<String, Integer> withoutSplit = Map.of();
        Map<String, Integer> withSplit = Map.of();
        int burst = 0;
        for (int pair = 0; pair < ROUNDS; pair++) {
          for (boolean useExtender : pair % 2 == 0 ? new boolean[] {false, true} : new boolean[] {true, false}) {
            burst++;
            long active = useExtender ? dovetailScheduler : defaultScheduler;
            long idle = useExtender ? defaultScheduler : dovetailScheduler;
            InformerClusterView view = null;
            try {
              if (useExtender) {
                view = new InformerClusterView(Catalog.bundled(), new SimpleMeterRegistry()).derivedStateOnly().start(client);
                Decisions decisions = new Decisions(view, new InFlightTable(), Set.of("kube-system"), Catalog.bundled());
                extender.set(new ExtenderServer(decisions, extenderMetrics, 64 << 20).mount(vertx, Router.router(vertx)));
                InformerClusterView v = view;
                waitFor("extender caches (synced " + v.synced() + ")", Duration.ofMinutes(2),
                    () -> v.synced() && v.rules().forNamespace("bench").isPresent());
              }
              signal("STOP", idle);
              System.out.printf("  %-16s round %d: ", useExtender ? "with extender" : "without extender", pair + 1);
              double seconds = burst(client, pool, owner, podCount, useExtender ? WITH_EXTENDER : "default-scheduler", active,
                  useExtender ? extenderMetrics : null, burst);
              Map<String, Integer> split = split(client);
              if (useExtender) {
                withSeconds[pair] = seconds;
                withSplit = split;
              } else {
                withoutSeconds[pair] = seconds;
                withoutSplit = split;
              }
            } finally {
              extender.set(null);
              if (view != null) {
                view.close();
              }
              signal("CONT", idle);
            }
            client.pods().inNamespace("bench").withGracePeriod(0).delete();
            waitFor("pods gone", Duration.ofMinutes(5), () -> client.pods().inNamespace("bench")
                .list(new ListOptionsBuilder().withLimit(1L).build()).getItems().isEmpty());
            Thread.sleep(2000);  // the paused scheduler catches up on what it missed before the next round
          }
        }
        return new Result[] {new Result("without extender", withoutSeconds, podCount, withoutSplit),
            new Result("with extender", withSeconds, podCount, withSplit)};
      } finally {
        pool.shutdownNow();
        if (second != null) {
          second.destroy();
          second.waitFor(10, TimeUnit.SECONDS);
        }
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      }
    }
  }

  /** A second kube-scheduler, {@code dovetail-scheduler}, configured like manifests/scheduler (extender on 127.0.0.1:8888). */
  private static Process startSecondScheduler(KwokCluster cluster) throws Exception {
    String template = Files.readString(RepoPaths.root().resolve("extender/src/test/resources/bench/with-extender.yaml"));
    Path config = Files.createTempFile("dovetail-bench-scheduler", ".yaml");
    Files.writeString(config, template.replace("${KUBECONFIG}", cluster.kubeconfig().toString()));
    Path log = Files.createTempFile("dovetail-bench-scheduler", ".log");
    Process p = new ProcessBuilder(K8sBinaries.binary("kube-scheduler").toString(), "--config", config.toString(), "--secure-port", "0")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    Runtime.getRuntime().addShutdownHook(new Thread(p::destroy));
    Thread.sleep(3000);
    if (!p.isAlive()) {
      throw new IllegalStateException("the second kube-scheduler exited: " + Files.readString(log));
    }
    return p;
  }

  private static Map<String, Integer> split(KubernetesClient client) {
    Map<String, Integer> split = new ConcurrentHashMap<>();
    for (Pod p : client.pods().inNamespace("bench").list().getItems()) {
      String node = p.getSpec().getNodeName();
      split.merge(Integer.parseInt(node.substring("bench-".length())) % 2 == 0 ? "spot" : "on-demand", 1, Integer::sum);
    }
    return split;
  }

  /** Pauses the scheduler, creates the pods for it, resumes it and times until every pod is bound. */
  private static double burst(KubernetesClient client, ExecutorService pool, ConfigMap owner, int podCount, String schedulerName,
      long scheduler, SimpleMeterRegistry extenderMetrics, int burst) throws Exception {
    signal("STOP", scheduler);
    createPods(pool, client, "bench-" + burst + "-", podCount, owner, schedulerName);
    OperatingSystemMXBean os =
        (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long cpu0 = os.getProcessCpuTime();
    Map<String, Long> threads0 = threadCpuByKind();
    long gc0 = gcMillis();
    long jit0 = ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
    long calls0 = extenderMetrics == null ? 0 : calls(extenderMetrics);
    long start = System.nanoTime();
    signal("CONT", scheduler);
    // Polls for any pod still unbound (limit 1): cheaper for the API server and this JVM than a watch.
    waitFor("every pod bound", Duration.ofMinutes(10), () -> client.pods().inNamespace("bench")
        .withField("spec.nodeName", "").list(new ListOptionsBuilder().withLimit(1L).build()).getItems().isEmpty());
    double seconds = (System.nanoTime() - start) / 1e9;
    System.out.printf("%,d pods bound in %.2f s; this JVM used %.2f CPU-s", podCount, seconds,
        (os.getProcessCpuTime() - cpu0) / 1e9);
    Map<String, Long> threads1 = threadCpuByKind();
    threads1.forEach((kind, ns) -> {
      double used = (ns - threads0.getOrDefault(kind, 0L)) / 1e9;
      if (used >= 0.05) {
        System.out.printf(" (%s %.2f)", kind, used);
      }
    });
    System.out.printf(", GC pauses %d ms, JIT %d ms", gcMillis() - gc0,
        ManagementFactory.getCompilationMXBean().getTotalCompilationTime() - jit0);
    if (extenderMetrics != null) {
      System.out.printf(", %d extender calls", calls(extenderMetrics) - calls0);
    }
    System.out.println();
    return seconds;
  }

  private static long calls(SimpleMeterRegistry registry) {
    return registry.find("dovetail.extender.request.duration").timers().stream().mapToLong(Timer::count).sum();
  }

  /** {@code n} pods of one workload (a ConfigMap stands in for their controller), 100m CPU and 128Mi each. */
  private static void createPods(ExecutorService pool, KubernetesClient client, String prefix, int n, ConfigMap owner,
      String schedulerName) throws Exception {
    parallel(pool, n, i -> client.pods().inNamespace("bench").resource(new PodBuilder().withNewMetadata()
        .withName(prefix + i).withOwnerReferences(new OwnerReferenceBuilder().withApiVersion("v1").withKind("ConfigMap")
            .withName(owner.getMetadata().getName()).withUid(owner.getMetadata().getUid()).withController(true).build()).endMetadata()
        .withNewSpec().withSchedulerName(schedulerName).addNewContainer().withName("c").withImage("registry.k8s.io/pause:3.10").withNewResources()
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
    return ManagementFactory.getGarbageCollectorMXBeans().stream()
        .mapToLong(GarbageCollectorMXBean::getCollectionTime).sum();
  }

  /** CPU time of this JVM's threads, grouped: cache (informer HTTP and decoding), extender (Vert.x), other. */
  private static Map<String, Long> threadCpuByKind() {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    Map<String, Long> out = new TreeMap<>();
    for (ThreadInfo t : mx.getThreadInfo(mx.getAllThreadIds())) {
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
