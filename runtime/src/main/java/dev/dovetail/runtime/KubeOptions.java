package dev.dovetail.runtime;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/** How a component reaches the Kubernetes API server. */
public final class KubeOptions {
  @Option(names = "--kubeconfig", defaultValue = "${env:KUBECONFIG}",
      description = "Kubeconfig file. Unset: the in-cluster service account, else ~/.kube/config.")
  Path kubeconfig;

  /**
   * The kubeconfig file asked for, checked to be a readable file; empty when none was (then the
   * in-cluster service account or ~/.kube/config). For a component with its own API client.
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

  public KubernetesClient client() {
    Config config;
    if (kubeconfigFile().isPresent()) {
      try {
        config = Config.fromKubeconfig(Files.readString(kubeconfig));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    } else {
      config = Config.autoConfigure(null);
    }
    config.setRequestRetryBackoffLimit(5);
    return new KubernetesClientBuilder().withConfig(config).build();
  }
}
