package dev.dovetail.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A whole local cluster: etcd, kube-apiserver, kube-controller-manager, the real kube-scheduler
 * (optionally configured with our extender) and kwok-controller, run by {@code kwokctl --runtime binary}
 * from the binary cache. kwok makes every Node it manages Ready and runs bound pods, so Deployments,
 * PDBs, evictions and scheduling behave as on a real cluster without kubelets.
 */
public final class KwokCluster extends BaseControlPlane {
  private final String name;
  private final Path workDir;
  private volatile boolean deleted;

  private KwokCluster(String name, Path workDir, Path kubeconfig) throws IOException {
    super(kubeconfig, Files.readString(kubeconfig));
    this.name = name;
    this.workDir = workDir;
  }

  /** Starts a cluster with a fresh name and working directory; fails with kwokctl's output. */
  public static KwokCluster start(Optional<Path> schedulerConfig) {
    String name = "dovetail-test-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
    Path workDir;
    try {
      workDir = Files.createTempDirectory("dovetail-kwok");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Path kubeconfig = workDir.resolve("kubeconfig");
    List<String> command = new ArrayList<>(List.of(
        K8sBinaries.binary("kwokctl").toString(), "create", "cluster",
        "--name", name,
        "--runtime", "binary",
        "--kube-apiserver-binary", K8sBinaries.binary("kube-apiserver").toString(),
        "--kube-controller-manager-binary", K8sBinaries.binary("kube-controller-manager").toString(),
        "--kube-scheduler-binary", K8sBinaries.binary("kube-scheduler").toString(),
        "--etcd-binary", K8sBinaries.binary("etcd").toString(),
        "--kwok-controller-binary", K8sBinaries.binary("kwok").toString(),
        "--kubeconfig", kubeconfig.toString(),
        "--wait", "120s"));
    schedulerConfig.ifPresent(c -> command.addAll(List.of("--kube-scheduler-config", c.toString())));
    ProcessResult created = Processes.run(command, env(workDir), Duration.ofMinutes(3));
    if (!created.ok()) {
      delete(name, workDir);
      throw new IllegalStateException("kwokctl could not start cluster " + name + ":\n" + created.stderr() + created.stdout());
    }
    try {
      KwokCluster cluster = new KwokCluster(name, workDir, kubeconfig);
      Runtime.getRuntime().addShutdownHook(new Thread(cluster::deleteQuietly, "delete-" + name));
      return cluster;
    } catch (IOException e) {
      delete(name, workDir);
      throw new UncheckedIOException(e);
    }
  }

  private static Map<String, String> env(Path workDir) {
    return Map.of("KWOK_WORKDIR", workDir.toString());
  }

  private static ProcessResult delete(String name, Path workDir) {
    return Processes.run(List.of(K8sBinaries.binary("kwokctl").toString(), "delete", "cluster", "--name", name),
        env(workDir), Duration.ofMinutes(1));
  }

  private void deleteQuietly() {
    if (!deleted) {
      deleted = true;
      delete(name, workDir);
    }
  }

  /** The process id of one component, from kwokctl's pid file (to pause it in benchmarks, say). */
  public long pid(String component) {
    Path file = workDir.resolve("clusters").resolve(name).resolve("pids").resolve(component + ".pid");
    try {
      return Long.parseLong(Files.readString(file).strip());
    } catch (IOException | NumberFormatException e) {
      throw new IllegalStateException("no pid for " + component + " in " + file, e);
    }
  }

  /** Log file of one component (etcd, kube-apiserver, kube-scheduler, kube-controller-manager, kwok-controller). */
  public Path log(String component) {
    return workDir.resolve("clusters").resolve(name).resolve("logs").resolve(component + ".log");
  }

  @Override
  public String description() {
    return "kwokctl cluster " + name + " (Kubernetes " + K8sBinaries.version() + ", binaries in " + K8sBinaries.dir() + ")";
  }

  @Override
  public void close() {
    client().close();
    ProcessResult r = delete(name, workDir);
    deleted = true;
    if (!r.ok()) {
      System.err.println("[dovetail] kwokctl delete cluster " + name + " failed: " + r.stderr());
    }
  }
}
