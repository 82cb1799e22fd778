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
