package dev.dovetail.testkit;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** A running Kubernetes control plane the tests talk to. */
public interface ControlPlane extends AutoCloseable {
  /** What kubectl auth can-i prints for a cluster-scoped resource (the namespace of the context is ignored): not an error. */
  Pattern CLUSTER_SCOPED_NOTE = Pattern.compile("Warning: resource '[^']+' is not namespace scoped( in group '[^']+')?");

  /** A kubeconfig file with cluster-admin rights. */
  Path kubeconfig();

  /** A shared admin client; tests must not close it. */
  KubernetesClient client();

  /** What is running, for logs and reports. */
  String description();

  /**
   * {@code kubectl auth can-i} as a ServiceAccount ({@code namespace:name}): whether RBAC allows it. Only
   * kubectl's two answers count: exit 0 with {@code yes}, or exit 1 with {@code no}, with nothing on stderr but
   * the note that a cluster-scoped resource ignores the namespace. Anything else (a resource type the server
   * does not know, which kubectl reports as a warning and then "no"; a bad flag; an unreachable server; empty
   * output) throws, so an error never passes for a denial.
   */
  default boolean canI(String serviceAccount, String verb, String resource, String... flags) {
    List<String> args = new ArrayList<>(List.of("auth", "can-i", verb, resource));
    args.addAll(List.of(flags));
    args.add("--as=system:serviceaccount:" + serviceAccount);
    ProcessResult r = kubectl(args.toArray(String[]::new));
    String answer = r.stdout().strip();
    boolean quiet = r.stderr().lines().allMatch(l -> l.isBlank() || CLUSTER_SCOPED_NOTE.matcher(l).matches());
    if (quiet) {
      if (r.exitCode() == 0 && answer.equals("yes")) {
        return true;
      }
      if (r.exitCode() == 1 && answer.equals("no")) {
        return false;
      }
    }
    throw new IllegalStateException("kubectl " + String.join(" ", args) + " gave no yes/no answer: exit code " + r.exitCode()
        + ", stdout [" + r.stdout().strip() + "], stderr [" + r.stderr().strip() + "]");
  }

  /** Runs the control plane's own kubectl against it. */
  default ProcessResult kubectl(String... args) {
    List<String> command = new ArrayList<>();
    command.add(K8sBinaries.binary("kubectl").toString());
    command.add("--kubeconfig=" + kubeconfig());
    command.addAll(List.of(args));
    return Processes.run(command, Map.of(), Duration.ofMinutes(2));
  }

  @Override
  void close();
}
