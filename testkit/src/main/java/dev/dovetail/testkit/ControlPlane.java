package dev.dovetail.testkit;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A running Kubernetes control plane the tests talk to. */
public interface ControlPlane extends AutoCloseable {
  /** A kubeconfig file with cluster-admin rights. */
  Path kubeconfig();

  /** A shared admin client; tests must not close it. */
  KubernetesClient client();

  /** What is running, for logs and reports. */
  String description();

  /** Runs the control plane's own kubectl against it. */
  /** {@code kubectl auth can-i} as a ServiceAccount ({@code namespace:name}): whether RBAC allows it. */
  default boolean canI(String serviceAccount, String verb, String resource, String... flags) {
    List<String> args = new ArrayList<>(List.of("auth", "can-i", verb, resource));
    args.addAll(List.of(flags));
    args.add("--as=system:serviceaccount:" + serviceAccount);
    return kubectl(args.toArray(String[]::new)).stdout().strip().equals("yes");
  }

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
