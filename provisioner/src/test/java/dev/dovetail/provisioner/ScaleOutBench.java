package dev.dovetail.provisioner;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.cloud.sim.SimCloudProvider;
import dev.dovetail.provisioner.testing.Expect;
import dev.dovetail.testkit.BenchReport;
import dev.dovetail.testkit.ControlPlaneExtension;
import dev.dovetail.testkit.KwokCluster;
import dev.dovetail.testkit.RepoPaths;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;

/**
 * Scale-out from zero on a real control plane: a burst of pending pods in three shapes (small, medium,
 * large) and the time until the provisioner has created their NodeClaims and until every pod runs.
 * kube-scheduler (calling the extender) binds them, kwok runs
 * the nodes; the sim cloud boots nodes at once, so the figures are Dovetail's and the control plane's,
 * not EC2's. By default the provisioner and the extender run as deployed (their jars, the Deployments'
 * JVM flags, see {@link DeployedJar}), and the report adds their peak RSS, the CPU each process used
 * (control plane included: on two cores the burst is CPU-bound, so this says who the time went to),
 * their CPU by thread, and the API server's requests by verb and resource. Run by scripts/bench-provisioner.
 */
public final class ScaleOutBench {
  private static final String[] ZONES = {"us-east-1a", "us-east-1b", "us-east-1c"};

  private record Result(int pods, double podsCreatedS, double firstClaimS, double claimsDoneS, double allRunningS, int claims, int nodes, double costPerHour,
      double onDemandPerHour, double simulationMs, long passes, String rss) {
  }

  public static void main(String[] args) throws Exception {
    int[] sizes = args.length > 0 ? Arrays.stream(args[0].split(",")).mapToInt(Integer::parseInt).toArray() : new int[] {200, 1000};
    boolean deployed = args.length < 2 || !args[1].equals("in-process");
    System.out.println("Provisioner scale-out on " + BenchReport.machine());
    List<Result> results = new ArrayList<>();
    List<String> flags = new ArrayList<>();
    try (KwokCluster cluster = KwokCluster.start(Optional.of(RepoPaths.root().resolve("manifests/scheduler/local-extender.yaml")))) {
      KubernetesClient client = cluster.client();
      ControlPlaneExtension.installCrds(client);
      if (deployed) {
        // One pair of processes for every size, as a running cluster has: the first size warms their JIT (and
        // this JVM's), and each size's peak RSS is the high-water mark so far.
        try (DeployedJar provisioner = DeployedJar.start(client, cluster.kubeconfig(), "provisioner", "manifests/provisioner/deployment.yaml",
            RepoPaths.root().resolve("provisioner/target/dovetail-provisioner.jar"), List.of("--cloud-provider=sim", "--sim-boot-delay=0s",
                "--sim-config-map=", "--no-leader-elect", "--cluster-name=dovetail-bench"));
            DeployedJar extender = DeployedJar.start(client, cluster.kubeconfig(), "dovetail-extender", "manifests/extender/deployment.yaml",
                RepoPaths.root().resolve("extender/target/dovetail-extender.jar"), List.of("--port=" + LocalExtender.PORT))) {
          flags.addAll(List.of(provisioner.describe(), extender.describe()));
          for (int size : sizes) {
            Map<String, Double> provisionerThreads = provisioner.threadCpu();
            Map<String, Double> extenderThreads = extender.threadCpu();
            Map<String, Double> benchThreads = DeployedJar.threadCpu(ProcessHandle.current().pid());
            results.add(run(client, size, processes(cluster, Map.of("provisioner", provisioner.handle(), "extender", extender.handle())),
                () -> provisioner.histogram("karpenter_provisioner_scheduling_duration_seconds"),
                () -> Optional.of(provisioner.peakRss().orElse(-1) + "/" + extender.peakRss().orElse(-1))));
            System.out.println("Provisioner CPU seconds by thread: " + delta(provisionerThreads, provisioner.threadCpu()));
            System.out.println("Extender CPU seconds by thread: " + delta(extenderThreads, extender.threadCpu()));
            System.out.println("Benchmark JVM CPU seconds by thread: " + delta(benchThreads, DeployedJar.threadCpu(ProcessHandle.current().pid())));
          }
        }
      } else {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (Operator operator = new Operator(Fixtures.settings("bench", false), client,
            Catalog.bundled(), registry, Clock.systemUTC()).start();
            LocalExtender extender = LocalExtender.start(operator.caches().view(), registry)) {
          for (int size : sizes) {
            results.add(run(client, size, processes(cluster, Map.of()), () -> {
              Timer simulation = registry.find("karpenter.provisioner.scheduling.duration").timer();
              return simulation == null ? new double[2] : new double[] {simulation.totalTime(TimeUnit.SECONDS), simulation.count()};
            }, Optional::empty));
          }
        }
      }
    }
    System.out.println();
    System.out.println("| pending pods | pods created (s) | first NodeClaim (s) | all NodeClaims (s) | all pods Running (s) | NodeClaims | nodes | simulation ms (passes) "
        + "| $/h | $/h all on-demand | peak RSS provisioner / extender (MiB) |");
    System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (Result r : results) {
      System.out.printf("| %d | %.2f | %.2f | %.2f | %.2f | %d | %d | %.0f (%d) | %.2f | %.2f | %s |%n", r.pods(), r.podsCreatedS(), r.firstClaimS(), r.claimsDoneS(),
          r.allRunningS(), r.claims(), r.nodes(), r.simulationMs(), r.passes(), r.costPerHour(), r.onDemandPerHour(), r.rss());
    }
    System.out.println("\nTimes from the start of pod creation (16 client threads). Batch windows: 1 s idle, 10 s max (Karpenter's).");
    if (deployed) {
      System.out.println("Provisioner and extender ran as their shaded jars with the Deployments' JVM flags (memory limit as -XX:MaxRAM), "
          + "one pair of processes for all sizes (peak RSS: the high-water mark so far):");
      flags.forEach(f -> System.out.println("  " + f));
    } else {
      System.out.println("Provisioner and extender ran inside the benchmark's JVM (one set of caches); no RSS of their own.");
    }
  }

  /** The control plane's processes, the given ones and this JVM (the benchmark's pod creators and watches), by name. */
  private static Map<String, ProcessHandle> processes(KwokCluster cluster, Map<String, ProcessHandle> components) {
    Map<String, ProcessHandle> all = new LinkedHashMap<>();
    for (String c : List.of("kube-apiserver", "etcd", "kube-scheduler", "kube-controller-manager", "kwok-controller")) {
      ProcessHandle.of(cluster.pid(c)).ifPresent(h -> all.put(c, h));
    }
    all.putAll(components);
    all.put("benchmark JVM", ProcessHandle.current());
    return all;
  }

  /** The largest increases from {@code before} to {@code after}, as "name 1.2, ...". */
  private static String delta(Map<String, Double> before, Map<String, Double> after) {
    return after.entrySet().stream().map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0.0)))
        .filter(e -> e.getValue() >= 0.05).sorted(Map.Entry.<String, Double>comparingByValue().reversed()).limit(10)
        .map(e -> String.format("%s %.1f", e.getKey(), e.getValue())).collect(Collectors.joining(", "));
  }

  private static final Pattern REQUEST = Pattern.compile("^apiserver_request_total\\{(.*)} (\\S+)$");
  private static final Pattern LABEL = Pattern.compile("(\\w+)=\"([^\"]*)\"");

  /** The API server's request counters by verb and resource (with subresource), from its own metrics. */
  private static Map<String, Double> apiRequests(KubernetesClient client) {
    Map<String, Double> counts = new LinkedHashMap<>();
    for (String line : client.raw("/metrics").lines().toList()) {
      Matcher m = REQUEST.matcher(line);
      if (m.matches()) {
        Map<String, String> labels = new LinkedHashMap<>();
        Matcher l = LABEL.matcher(m.group(1));
        while (l.find()) {
          labels.put(l.group(1), l.group(2));
        }
        String key = labels.getOrDefault("verb", "?") + " " + labels.getOrDefault("resource", "?")
            + (labels.getOrDefault("subresource", "").isEmpty() ? "" : "/" + labels.get("subresource"));
        counts.merge(key, Double.parseDouble(m.group(2)), Double::sum);
      }
    }
    return counts;
  }

  private static Map<String, Duration> cpu(Map<String, ProcessHandle> processes) {
    Map<String, Duration> used = new LinkedHashMap<>();
    processes.forEach((name, h) -> used.put(name, h.info().totalCpuDuration().orElse(Duration.ZERO)));
    return used;
  }

  private static Result run(KubernetesClient client, int pods, Map<String, ProcessHandle> processes, Callable<double[]> simulation, Callable<Optional<String>> rss) throws Exception {
    String label = Fixtures.unique("scale");
    String ns = label;
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build()).create();
    client.resources(EC2NodeClass.class).resource(Fixtures.nodeClass(label)).create();
    NodePool pool = Fixtures.nodePool(label, label, label, null, null,
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_CATEGORY, "c", "m", "r"),
        NodeSelectorRequirementWithMinValues.of(WellKnownLabels.INSTANCE_GENERATION, NodeSelectorRequirementWithMinValues.Operator.Gt, "5"),
        NodeSelectorRequirementWithMinValues.of(WellKnownLabels.INSTANCE_CPU, NodeSelectorRequirementWithMinValues.Operator.Lt, "33"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.ZONE, ZONES),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, "spot", "on-demand"));
    client.resources(NodePool.class).resource(pool).create();
    // Pods come once the pool's status controller has marked it Ready: a pass before that finds no pool to launch from.
    Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> {
      NodePool p = client.resources(NodePool.class).withName(label).get();
      return p != null && p.getStatus() != null && Expect.has(p.getStatus().conditions(), ConditionTypes.READY, Condition.Status.True, null);
    });
    double[] simBefore = simulation.call();
    Map<String, Duration> cpuBefore = cpu(processes);
    Map<String, Double> requestsBefore = apiRequests(client);

    int small = pods / 2;
    int medium = pods * 3 / 10;
    int large = pods - small - medium;
    // The pods are created here, from many threads, rather than by Deployments: kube-controller-manager
    // creates pods at its client rate limit (20/s by default), which would be what this measures.
    Phases phases = new Phases(client, ns, label);
    long t0 = System.nanoTime();
    ExecutorService creators = Executors.newFixedThreadPool(16);
    List<Future<?>> created = new ArrayList<>();
    for (int i = 0; i < pods; i++) {
      Pod pod = i < small ? pod(ns, "small", i, "250m", "512Mi", label) : i < small + medium ? pod(ns, "medium", i, "1", "2Gi", label)
          : pod(ns, "large", i, "2", "4Gi", label);
      created.add(creators.submit(() -> {
        long sent = System.nanoTime();
        client.pods().inNamespace(ns).resource(pod).create();
        phases.created(pod.getMetadata().getName(), sent);
      }));
    }
    for (Future<?> f : created) {
      try {
        f.get();
      } catch (ExecutionException e) {
        throw new IllegalStateException("creating a pod failed", e.getCause());
      }
    }
    creators.shutdown();
    double podsCreated = seconds(System.nanoTime() - t0);

    // Progress from the watches (not by listing: 1,000 pods listed ten times a second cost the API server and
    // this JVM more CPU than the provisioner uses).
    long deadline = t0 + TimeUnit.MINUTES.toNanos(5);
    while (phases.running() < pods && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    double firstClaim = phases.firstClaim().stream().mapToDouble(t -> seconds(t - t0)).findFirst().orElse(Double.NaN);
    double claimsDone = phases.lastClaim().stream().mapToDouble(t -> seconds(t - t0)).findFirst().orElse(Double.NaN);
    int lastClaims = phases.claims();
    double allRunning = seconds(phases.lastRunning().orElse(System.nanoTime()) - t0);
    Map<String, Duration> cpuAfter = cpu(processes);
    Map<String, Double> requestsAfter = apiRequests(client);
    System.out.printf("%nAPI server requests during the run (verb resource/subresource: count, most first): %s%n",
        requestsAfter.entrySet().stream().map(e -> Map.entry(e.getKey(), e.getValue() - requestsBefore.getOrDefault(e.getKey(), 0.0)))
            .filter(e -> e.getValue() >= 1).sorted(Map.Entry.<String, Double>comparingByValue().reversed()).limit(14)
            .map(e -> String.format("%s %.0f", e.getKey(), e.getValue())).collect(Collectors.joining(", ")));
    System.out.printf("%nCPU seconds used while %d pods were created and ran (%.1f s on %d cores): %s%n", pods, allRunning,
        Runtime.getRuntime().availableProcessors(), cpuAfter.entrySet().stream()
            .map(e -> String.format("%s %.1f", e.getKey(), (e.getValue().toMillis() - cpuBefore.get(e.getKey()).toMillis()) / 1000.0))
            .collect(Collectors.joining(", ")));
    System.out.printf("%nPhases of the %d-pod scale-out, per pod through the NodeClaim of its node:%n%n%s", pods, phases.table());
    phases.close();
    List<Pod> notRunning = client.pods().inNamespace(ns).list().getItems().stream().filter(p -> !"Running".equals(p.getStatus().getPhase())).toList();
    if (!notRunning.isEmpty()) {
      throw new IllegalStateException(notRunning.size() + " of " + pods + " pods are not Running after 5 minutes");
    }
    List<Node> nodes = client.nodes().withLabel(Fixtures.TEST_LABEL, label).list().getItems();
    double cost = 0;
    double onDemand = 0;
    Catalog catalog = Catalog.bundled();
    for (Node n : nodes) {
      Map<String, String> annotations = n.getMetadata().getAnnotations();
      cost += Double.parseDouble(annotations.get(SimCloudProvider.PRICE_ANNOTATION));
      onDemand += catalog.get(n.getMetadata().getLabels().get(WellKnownLabels.INSTANCE_TYPE)).orElseThrow().onDemandPricePerHour();
    }
    double[] simAfter = simulation.call();
    String peaks = rss.call().map(ScaleOutBench::mebibytes).orElse("-");
    return new Result(pods, podsCreated, firstClaim, claimsDone, allRunning, lastClaims, nodes.size(), cost, onDemand,
        (simAfter[0] - simBefore[0]) * 1000, (long) (simAfter[1] - simBefore[1]), peaks);
  }

  private static Pod pod(String ns, String app, int i, String cpu, String memory, String poolLabel) {
    return new PodBuilder().withNewMetadata().withName(app + "-" + i).withNamespace(ns).addToLabels("app", app).endMetadata()
        .withNewSpec().addToNodeSelector(Fixtures.TEST_LABEL, poolLabel).withTerminationGracePeriodSeconds(0L)
        .addNewContainer().withName("app").withImage("registry.k8s.io/pause:3.10")
        .withNewResources().addToRequests("cpu", new Quantity(cpu)).addToRequests("memory", new Quantity(memory)).endResources()
        .endContainer().endSpec().build();
  }

  /** Byte counts "a/b" as MiB, "?" for one the kernel did not report. */
  private static String mebibytes(String bytes) {
    return Arrays.stream(bytes.split("/")).map(b -> Long.parseLong(b) < 0 ? "?" : Long.toString(Long.parseLong(b) >> 20))
        .collect(Collectors.joining(" / "));
  }

  private static double seconds(long nanos) {
    return nanos / 1e9;
  }

  private ScaleOutBench() {
  }
}
