package dev.dovetail.runtime;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * How a component reaches the Kubernetes API server. Free of fabric8, even in method signatures: picocli
 * reflects over this mixin, which would load the client's types into the interrupt listener, which has a
 * client of its own. The fabric8 client is made by {@link KubeClients}.
 */
public final class KubeOptions {
  @Option(names = "--kubeconfig", defaultValue = "${env:KUBECONFIG}",
      description = "Kubeconfig file. Unset: the in-cluster service account, else ~/.kube/config.")
  Path kubeconfig;

  /**
   * The kubeconfig file asked for, checked to be a readable file; empty when none was (then the
   * in-cluster service account or ~/.kube/config).
   */
  public Optional<Path> kubeconfigFile() {
    if (kubeconfig != null && kubeconfig.toString().isBlank()) {
      throw new IllegalArgumentException("--kubeconfig is empty (is KUBECONFIG set to an empty string?)");
    }
    if (kubeconfig != null) {
      if (Files.isDirectory(kubeconfig)) {
        throw new IllegalArgumentException("--kubeconfig " + kubeconfig + " is a directory, not a kubeconfig file");
      }
      if (!Files.isReadable(kubeconfig)) {
        throw new IllegalArgumentException("--kubeconfig " + kubeconfig + " does not exist or cannot be read");
      }
    }
    return Optional.ofNullable(kubeconfig);
  }
}
