package dev.dovetail.provisioner;

import dev.dovetail.runtime.PrometheusText;
import dev.dovetail.testkit.ContainerImage;
import dev.dovetail.testkit.Ports;
import dev.dovetail.testkit.RepoPaths;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A component's shaded jar run as its Deployment (or DaemonSet) runs it: the container's {@code JAVA_TOOL_OPTIONS} from
 * {@code manifests/}, with the container's memory limit given to the JVM as {@code -XX:MaxRAM} (what it
 * would read from the cgroup), so {@code MaxRAMPercentage} sizes the heap as in the pod. Peak RSS is the
 * kernel's high-water mark ({@code VmHWM}).
 */
final class DeployedJar implements AutoCloseable {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final String name;
  private final Process process;
  private final int metricsPort;
  private final Path log;
  private final List<String> jvmFlags;

  private DeployedJar(String name, Process process, int metricsPort, Path log, List<String> jvmFlags) {
    this.name = name;
    this.process = process;
    this.metricsPort = metricsPort;
    this.log = log;
    this.jvmFlags = jvmFlags;
  }

  /**
   * Starts {@code jar} with the JVM flags of container {@code container} in {@code manifest}, the given
   * arguments, and free metrics and health ports on 127.0.0.1; returns once {@code /readyz} answers 200.
   */
  static DeployedJar start(KubernetesClient client, Path kubeconfig, String container, String manifest, Path jar, List<String> args)
      throws IOException, InterruptedException {
    return start(client, kubeconfig, container, manifest, jar, args, Ports.free());
  }

  /** {@link #start(KubernetesClient, Path, String, String, Path, List)} with its metrics on a port chosen beforehand. */
  static DeployedJar start(KubernetesClient client, Path kubeconfig, String container, String manifest, Path jar, List<String> args,
      int metrics) throws IOException, InterruptedException {
    return start(client, kubeconfig, container, manifest, jar, args, metrics, Map.of());
  }

  /**
   * {@link #start(KubernetesClient, Path, String, String, Path, List)} with {@code env} added to the process's environment
   * ({@code DOVETAIL_LOG_LEVEL}, say). The log level {@code bench.log.level} gives is passed only when neither {@code args}
   * ({@code --log-level}) nor {@code env} ({@code DOVETAIL_LOG_LEVEL}) sets one.
   */
  static DeployedJar start(KubernetesClient client, Path kubeconfig, String container, String manifest, Path jar, List<String> args,
      Map<String, String> env) throws IOException, InterruptedException {
    return start(client, kubeconfig, container, manifest, jar, args, Ports.free(), env);
  }

  private static DeployedJar start(KubernetesClient client, Path kubeconfig, String container, String manifest, Path jar, List<String> args,
      int metrics, Map<String, String> extraEnv) throws IOException, InterruptedException {
    if (!Files.exists(jar)) {
      throw new IllegalStateException(jar + " is missing (mvn package builds it)");
    }
    Container spec = container(client, RepoPaths.root().resolve(manifest), container);
    List<String> flags = jvmFlags(spec);
    int health = Ports.free();
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.addAll(flags);
    command.addAll(List.of("-jar", jar.toString()));
    command.addAll(arguments(container, kubeconfig, metrics, health, args, extraEnv));
    // The container's other literal environment (MALLOC_ARENA_MAX, say); JAVA_TOOL_OPTIONS is on the command line above.
    Map<String, String> env = new HashMap<>();
    spec.getEnv().stream().filter(e -> e.getValue() != null && !e.getName().equals("JAVA_TOOL_OPTIONS"))
        .forEach(e -> env.put(e.getName(), e.getValue()));
    env.putAll(extraEnv);
    return launch(container, command, env, metrics, health, flags, jar.resolveSibling("process-logs"));
  }

  /**
   * The component's container image run as its Deployment (or DaemonSet) runs it: the image's entrypoint and
   * environment in its unpacked file system {@code root} (see {@link ContainerImage#command}), the container's memory
   * limit added to the image's {@code JAVA_TOOL_OPTIONS} as {@code -XX:MaxRAM}, the container's other literal
   * environment, and the kubeconfig copied into the image's file system.
   */
  static DeployedJar startImage(KubernetesClient client, Path kubeconfig, String container, String manifest, ContainerImage image,
      Path root, List<String> args) throws IOException, InterruptedException {
    PodSpec pod = podSpec(client, RepoPaths.root().resolve(manifest), container);
    Container spec = pod.getContainers().stream().filter(c -> c.getName().equals(container)).findFirst().orElseThrow();
    // Where the pod would mount it: a file the process reads, outside the volumes the pod spec mounts over.
    Path inImage = Path.of("/home/nonroot", "kubeconfig");
    Files.writeString(root.resolve(inImage.toString().substring(1)), selfContained(Files.readString(kubeconfig)));
    Map<String, String> env = new HashMap<>();
    spec.getEnv().stream().filter(e -> e.getValue() != null && !e.getName().equals("JAVA_TOOL_OPTIONS"))
        .forEach(e -> env.put(e.getName(), e.getValue()));
    List<String> flags = new ArrayList<>(Arrays.asList(image.config().env().getOrDefault("JAVA_TOOL_OPTIONS", "").trim().split("\\s+")));
    maxRam(spec).ifPresent(m -> flags.add(0, m));
    env.put("JAVA_TOOL_OPTIONS", String.join(" ", flags));
    int metrics = Ports.free();
    int health = Ports.free();
    List<String> command = image.command(root, arguments(container, inImage, metrics, health, args, Map.of()), env, mounts(pod, spec));
    return launch(container, command, Map.of(), metrics, health, flags, root.resolveSibling("process-logs"));
  }

  /** The container's JAVA_TOOL_OPTIONS, after its memory limit as {@code -XX:MaxRAM}, plus -Dbench.jvm.<container> flags. */
  private static List<String> jvmFlags(Container spec) {
    List<String> flags = new ArrayList<>();
    spec.getEnv().stream().filter(e -> e.getName().equals("JAVA_TOOL_OPTIONS")).map(EnvVar::getValue).findFirst()
        .ifPresent(v -> flags.addAll(Arrays.asList(v.trim().split("\\s+"))));
    maxRam(spec).ifPresent(m -> flags.add(0, m));
    // Extra flags for one component, separated by ";", for profiling: -Dbench.jvm.provisioner=-XX:StartFlightRecording=...
    String extra = System.getProperty("bench.jvm." + spec.getName(), "").trim();
    if (!extra.isEmpty()) {
      flags.addAll(Arrays.asList(extra.split("[\\s;]+")));
    }
    return flags;
  }

  /** What the JVM would read from the container's memory cgroup. */
  private static Optional<String> maxRam(Container spec) {
    Quantity limit = spec.getResources().getLimits() == null ? null : spec.getResources().getLimits().get("memory");
    return limit == null ? Optional.empty() : Optional.of("-XX:MaxRAM=" + Quantity.getAmountInBytes(limit).toBigInteger());
  }

  private static List<String> arguments(String container, Path kubeconfig, int metrics, int health, List<String> args, Map<String, String> env) {
    List<String> arguments = new ArrayList<>(List.of("--kubeconfig=" + kubeconfig, "--metrics-port=" + metrics, "--health-probe-port=" + health,
        "--bind-address=127.0.0.1"));
    if (args.stream().noneMatch(a -> a.startsWith("--log-level")) && !env.containsKey("DOVETAIL_LOG_LEVEL")) {
      arguments.add("--log-level=" + System.getProperty("bench.log.level", "WARN"));
    }
    arguments.addAll(args);
    // Extra arguments the same way: -Dbench.args.provisioner=--launch-group-wait=0s
    String extraArgs = System.getProperty("bench.args." + container, "").trim();
    if (!extraArgs.isEmpty()) {
      arguments.addAll(Arrays.asList(extraArgs.split("[\\s;]+")));
    }
    return arguments;
  }

  /** Starts the command with its output in a log under {@code logs}; returns once {@code /readyz} answers 200. */
  private static DeployedJar launch(String container, List<String> command, Map<String, String> env, int metrics, int health,
      List<String> flags, Path logs) throws IOException, InterruptedException {
    Path log = Files.createTempFile(Files.createDirectories(logs), container + "-bench-", ".log");
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    // Logging as the manifests and the caller say, not as this JVM's environment happens to.
    builder.environment().keySet().removeIf(k -> k.startsWith("DOVETAIL_LOG_"));
    builder.environment().putAll(env);
    Process process = builder.start();
    DeployedJar started = new DeployedJar(container, process, metrics, log, flags);
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (!started.ready(health)) {
      if (!process.isAlive() || System.nanoTime() > deadline) {
        started.close();
        throw new IllegalStateException(container + " did not become ready (exit " + (process.isAlive() ? "none" : process.exitValue())
            + "); its log: " + log);
      }
      Thread.sleep(100);
    }
    return started;
  }

  /**
   * The kubeconfig with the files it names (CA, client certificate and key) put inside it as {@code *-data}: the image's
   * file system has none of the host's files.
   */
  static String selfContained(String kubeconfig) throws IOException {
    Matcher m = Pattern.compile("(?m)^(\\s*)(certificate-authority|client-certificate|client-key):\\s*(\\S+)\\s*$").matcher(kubeconfig);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String data = Base64.getEncoder().encodeToString(Files.readAllBytes(Path.of(m.group(3))));
      m.appendReplacement(out, Matcher.quoteReplacement(m.group(1) + m.group(2) + "-data: " + data));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** The file system as the pod spec mounts it for the container: its root read-only or not, its emptyDir volumes. */
  private static ContainerImage.Mounts mounts(PodSpec pod, Container spec) {
    boolean readOnly = spec.getSecurityContext() != null && Boolean.TRUE.equals(spec.getSecurityContext().getReadOnlyRootFilesystem());
    Set<String> emptyDirs = pod.getVolumes() == null ? Set.of()
        : pod.getVolumes().stream().filter(v -> v.getEmptyDir() != null).map(Volume::getName).collect(Collectors.toSet());
    List<String> paths = spec.getVolumeMounts() == null ? List.of()
        : spec.getVolumeMounts().stream().filter(m -> emptyDirs.contains(m.getName())).map(VolumeMount::getMountPath).toList();
    return new ContainerImage.Mounts(readOnly, paths);
  }

  private static Container container(KubernetesClient client, Path manifest, String name) throws IOException {
    PodSpec pod = podSpec(client, manifest, name);
    return pod.getContainers().stream().filter(c -> c.getName().equals(name)).findFirst().orElseThrow();
  }

  /** The pod spec of the Deployment or DaemonSet in {@code manifest} that has a container {@code name}. */
  private static PodSpec podSpec(KubernetesClient client, Path manifest, String name) throws IOException {
    try (InputStream in = Files.newInputStream(manifest)) {
      for (HasMetadata item : client.load(in).items()) {
        PodSpec pod = item instanceof Deployment d ? d.getSpec().getTemplate().getSpec()
            : item instanceof DaemonSet ds ? ds.getSpec().getTemplate().getSpec() : null;
        if (pod != null && pod.getContainers().stream().anyMatch(c -> c.getName().equals(name))) {
          return pod;
        }
      }
    }
    throw new IllegalStateException("no container " + name + " in a Deployment or DaemonSet of " + manifest);
  }

  private boolean ready(int health) {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + health + "/readyz")).timeout(Duration.ofSeconds(2)).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The sum and count of a Prometheus histogram or summary on the component's metrics endpoint (0 when absent). */
  double[] histogram(String family) throws IOException, InterruptedException {
    String body = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    List<PrometheusText.Sample> samples = PrometheusText.parse(body);
    return new double[] {PrometheusText.sum(samples, family + "_sum", Map.of()), PrometheusText.sum(samples, family + "_count", Map.of())};
  }

  /** The process's peak resident set so far, in bytes, when the kernel reports it. */
  OptionalLong peakRss() throws IOException {
    Path status = Path.of("/proc", Long.toString(process.pid()), "status");
    if (!Files.exists(status)) {
      return OptionalLong.empty();
    }
    for (String line : Files.readAllLines(status)) {
      if (line.startsWith("VmHWM:")) {
        return OptionalLong.of(Long.parseLong(line.replaceAll("\\D", "")) * 1024);
      }
    }
    return OptionalLong.empty();
  }

  /**
   * CPU seconds so far per thread group (the thread names of {@code /proc/<pid>/task}, digits dropped, so
   * "C2 CompilerThre", "JdkHttpClientFactory-N-pool-N-thread-N", "VM Thread"), most first.
   */
  Map<String, Double> threadCpu() throws IOException {
    return threadCpu(process.pid());
  }

  /** {@link #threadCpu()} of any process. */
  static Map<String, Double> threadCpu(long pid) throws IOException {
    Map<String, Double> cpu = new HashMap<>();
    Path tasks = Path.of("/proc", Long.toString(pid), "task");
    if (!Files.isDirectory(tasks)) {
      return cpu;
    }
    try (Stream<Path> threads = Files.list(tasks)) {
      for (Path t : threads.toList()) {
        try {
          String stat = Files.readString(t.resolve("stat"));
          String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replaceAll("\\d+", "N");
          String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          // utime and stime are fields 14 and 15 of stat; here counted from field 3 (state).
          double seconds = (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / 100.0;
          cpu.merge(name, seconds, Double::sum);
        } catch (NoSuchFileException exited) {
          // the thread ended while listed
        }
      }
    }
    return cpu;
  }

  int metricsPort() {
    return metricsPort;
  }

  Path log() {
    return log;
  }

  ProcessHandle handle() {
    return process.toHandle();
  }

  String describe() {
    return name + " " + String.join(" ", jvmFlags);
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
      if (process.exitValue() != 0 && process.exitValue() != 143) {
        System.err.println(name + " exited with " + process.exitValue() + "; its log: " + log);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

}
