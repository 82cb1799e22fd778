package dev.dovetail.interruption;


import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.interruption.imds.Imds;
import dev.dovetail.testkit.BenchReport;
import dev.dovetail.testkit.ControlPlaneExtension;
import dev.dovetail.testkit.KwokCluster;
import dev.dovetail.testkit.MetadataMock;
import dev.dovetail.testkit.Ports;
import dev.dovetail.testkit.RepoPaths;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Notice-to-taint and notice-to-drained latency of the interrupt listener, over many notices: each trial
 * a fresh kwok node running three pods (with a spare node for them), a fresh amazon-ec2-metadata-mock
 * issuing a spot interruption one second after it starts, and the agent polling every second. Times are
 * measured from the mock's start plus its delay, an upper bound of when the notice appeared.
 * Run by scripts/bench-interruption.
 */
public final class InterruptionBench {
  public static void main(String[] args) throws Exception {
    int trials = args.length > 0 ? Integer.parseInt(args[0]) : 50;
    System.out.println("Interrupt listener latency on " + BenchReport.machine());
    long[] toTaint = new long[trials];
    long[] toDrained = new long[trials];
    try (KwokCluster cluster = KwokCluster.start(Optional.empty())) {
      KubernetesClient client = cluster.client();
      ControlPlaneExtension.installCrds(client);
      client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("bench").endMetadata().build()).create();
      for (int t = 0; t < trials; t++) {
        String pool = "bench-" + t;
        String doomed = pool + "-spot";
        client.nodes().resource(InterruptionE2EIT.node(doomed, pool)).create();
        // The spare starts cordoned, so the pods start on the doomed node.
        Node spare = InterruptionE2EIT.node(pool + "-spare", pool);
        spare.getSpec().setUnschedulable(true);
        client.nodes().resource(spare).create();
        client.apps().deployments().resource(new DeploymentBuilder().withNewMetadata().withName(pool).withNamespace("bench").endMetadata()
            .withNewSpec().withReplicas(3).withNewSelector().addToMatchLabels("app", pool).endSelector()
            .withNewTemplate().withNewMetadata().addToLabels("app", pool).endMetadata()
            .withNewSpec().addToNodeSelector(InterruptionE2EIT.POOL, pool).withTerminationGracePeriodSeconds(0L)
            .addNewContainer().withName("app").withImage("registry.k8s.io/pause:3.10").withNewResources()
            .addToRequests("cpu", new Quantity("100m")).endResources().endContainer().endSpec().endTemplate().endSpec().build()).create();
        waitFor(() -> client.pods().inNamespace("bench").withLabel("app", pool).list().getItems().stream()
            .filter(p -> "Running".equals(p.getStatus().getPhase())).count() == 3, 60_000);
        client.nodes().withName(pool + "-spare").patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"unschedulable\":false}}");
        try (MetadataMock imds = MetadataMock.start("spot", "--mock-delay-sec", "2");
            Agent agent = InterruptionE2EIT.agent(cluster.kubeconfig(), imds.endpoint(), doomed).start()) {
          // When the notice appears, watched every 10 ms from here (the agent polls every second).
          Imds watcher = new Imds(HttpClient.newHttpClient(), imds.endpoint(), Duration.ofMinutes(5), Duration.ofSeconds(2), Clock.systemUTC());
          long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
          while (!noticeVisible(watcher)) {
            if (System.nanoTime() > giveUp) {
              throw new IllegalStateException("the mock never published the notice; its log: " + Files.readString(imds.log()));
            }
            Thread.sleep(10);
          }
          long noticeAt = System.nanoTime();
          waitFor(() -> {
            Node n = client.nodes().withName(doomed).get();
            return n.getSpec().getTaints() != null && n.getSpec().getTaints().stream().anyMatch(x -> WellKnownLabels.DISRUPTED_TAINT.equals(x.getKey()));
          }, 30_000);
          toTaint[t] = System.nanoTime() - noticeAt;
          waitFor(() -> client.pods().inNamespace("bench").withField("spec.nodeName", doomed).list().getItems().isEmpty(), 60_000);
          toDrained[t] = System.nanoTime() - noticeAt;
        }
        System.out.printf("  trial %d: tainted %.0f ms, drained %.0f ms after the notice%n", t + 1, toTaint[t] / 1e6, toDrained[t] / 1e6);
        client.apps().deployments().inNamespace("bench").withName(pool).delete();
      }
      footprint(cluster, 1);
    }
    if (trials == 0) {
      return;
    }
    System.out.println();
    System.out.println("| notices | notice → tainted + cordoned p50 / p99 / max | notice → drained (3 pods) p50 / p99 / max |");
    System.out.println("|---:|---:|---:|");
    System.out.printf("| %d | %s | %s |%n", trials, stats(toTaint), stats(toDrained));
    System.out.println("\nPoll interval 1 s (±25 % jitter); the notice time is when a 10 ms watcher first saw it in the mock.");
  }

  /**
   * The agent as the DaemonSet runs it: the shaded jar in its own JVM with the manifest's
   * JAVA_TOOL_OPTIONS (and, for comparison, with none), against the control plane and the mock, acting on
   * a spot notice. Start-up is launch to /readyz 200; RSS is sampled from /proc every 100 ms.
   */
  static void footprint(KwokCluster cluster, int round) throws Exception {
    Path jar = RepoPaths.root().resolve("interrupt-listener/target/dovetail-interrupt-listener.jar");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " is missing: build it with ./mvnw package -pl interrupt-listener -am");
    }
    String manifestOptions = manifestJavaOptions();
    System.out.println();
    System.out.println("| JVM options | ready after | RSS when ready | RSS peak (notice handled, node drained) | RSS at end |");
    System.out.println("|---|---:|---:|---:|---:|");
    String asked = System.getProperty("bench.jvmOptions");
    List<String> variants = asked == null ? List.of(manifestOptions, "")
        : Arrays.stream(asked.split("\\|")).map(o -> o.replace("MANIFEST", manifestOptions).trim()).toList();
    int variant = 0;
    for (String options : variants) {
      String node = "footprint-" + round + "-" + variant++;
      KubernetesClient client = cluster.client();
      client.nodes().resource(InterruptionE2EIT.node(node, node)).create();
      try (MetadataMock imds = MetadataMock.start("spot", "--mock-delay-sec", "8")) {
        int probes = Ports.free();
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar.toString(),
            "--node-name", node, "--imds-endpoint", imds.endpoint().toString(), "--kubeconfig", cluster.kubeconfig().toString(),
            "--metrics-port", Integer.toString(Ports.free()), "--health-probe-port", Integer.toString(probes), "--bind-address", "127.0.0.1")
            .redirectErrorStream(true).redirectOutput(Files.createTempFile("agent-", ".log").toFile());
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.environment().putAll(manifestEnvironment());
        if (System.getProperty("bench.mallocArenaMax") != null) {
          pb.environment().put("MALLOC_ARENA_MAX", System.getProperty("bench.mallocArenaMax"));
        }
        if (!options.isEmpty()) {
          pb.environment().put("JAVA_TOOL_OPTIONS", options);
        }
        long launched = System.nanoTime();
        Process agent = pb.start();
        try {
          HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(200)).build();
          waitFor(() -> ready(http, probes), 30_000);
          long readyNanos = System.nanoTime() - launched;
          long atReady = rssKib(agent.pid());
          nativeMemory(agent.pid(), "when ready");
          long peak = atReady;
          long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
          while (System.nanoTime() < until) {
            peak = Math.max(peak, rssKib(agent.pid()));
            Thread.sleep(100);
          }
          Node n = client.nodes().withName(node).get();
          boolean acted = n.getSpec().getTaints() != null && n.getSpec().getTaints().stream().anyMatch(x -> WellKnownLabels.DISRUPTED_TAINT.equals(x.getKey()));
          nativeMemory(agent.pid(), "after the notice");
          System.out.printf("| %s | %.2f s | %d MiB | %d MiB%s | %d MiB |%n", options.isEmpty() ? "JVM defaults" : "`" + options + "`", readyNanos / 1e9,
              atReady / 1024, peak / 1024, acted ? "" : " (notice NOT handled)", rssKib(agent.pid()) / 1024);
        } finally {
          agent.destroy();
          agent.waitFor(10, TimeUnit.SECONDS);
        }
      }
      client.nodes().withName(node).delete();
    }
  }

  /** With -Dbench.nmt=true (and -XX:NativeMemoryTracking=summary in the variant): where the memory is. */
  private static void nativeMemory(long pid, String when) throws IOException {
    if (!Boolean.getBoolean("bench.nmt")) {
      return;
    }
    Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(), Long.toString(pid),
        "VM.native_memory", "summary").redirectErrorStream(true).start();
    System.out.println("native memory " + when + " (RSS " + rssKib(pid) / 1024 + " MiB):\n" + new String(jcmd.getInputStream().readAllBytes()).lines()
        .filter(l -> l.startsWith("Total") || l.startsWith("-") && l.contains("committed="))
        .map(l -> l.replaceAll("reserved=\\d+KB, ", "")).collect(Collectors.joining("\n")));
  }

  /** Environment of the DaemonSet that shapes the process's memory (glibc's arena count). */
  static Map<String, String> manifestEnvironment() throws IOException {
    String yaml = Files.readString(RepoPaths.manifests().resolve("interrupt-listener/daemonset.yaml"));
    Matcher m = Pattern.compile("name: MALLOC_ARENA_MAX\\s+value: \"(\\d+)\"").matcher(yaml);
    return m.find() ? Map.of("MALLOC_ARENA_MAX", m.group(1)) : Map.of();
  }

  /** JAVA_TOOL_OPTIONS of the DaemonSet in manifests/, the options measured are the options shipped. */
  static String manifestJavaOptions() throws IOException {
    String yaml = Files.readString(RepoPaths.manifests().resolve("interrupt-listener/daemonset.yaml"));
    Matcher m = Pattern.compile("name: JAVA_TOOL_OPTIONS\\s+value: \"([^\"]+)\"").matcher(yaml);
    if (!m.find()) {
      throw new IllegalStateException("no JAVA_TOOL_OPTIONS in manifests/interrupt-listener/daemonset.yaml");
    }
    return m.group(1);
  }

  private static boolean ready(HttpClient http, int port) {
    try {
      return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz")).timeout(Duration.ofSeconds(1))
          .build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    } catch (Exception e) {
      return false;
    }
  }

  /** Resident set of a process, from /proc (Linux). */
  static long rssKib(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | NumberFormatException e) {
      return 0;
    }
    return 0;
  }


  /** A failed read (the mock sometimes drops a kept-alive connection) counts as "not yet". */
  private static boolean noticeVisible(Imds watcher) {
    try {
      return watcher.metadata("spot/instance-action").get(5, TimeUnit.SECONDS).isPresent();
    } catch (Exception e) {
      return false;
    }
  }

  private static String stats(long[] nanos) {
    long[] s = nanos.clone();
    Arrays.sort(s);
    return String.format("%.0f / %.0f / %.0f ms", BenchReport.percentileMicros(s, 50) / 1000, BenchReport.percentileMicros(s, 99) / 1000,
        s[s.length - 1] / 1e6);
  }

  private static void waitFor(BooleanSupplier condition, long timeoutMillis) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMillis;
    while (!condition.getAsBoolean()) {
      if (System.currentTimeMillis() > deadline) {
        throw new IllegalStateException("timed out");
      }
      Thread.sleep(20);
    }
  }

  private InterruptionBench() {
  }
}
