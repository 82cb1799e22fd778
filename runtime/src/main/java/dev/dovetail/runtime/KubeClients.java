package dev.dovetail.runtime;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** The fabric8 client of the components that use it (extender, provisioner), as {@link KubeOptions} say. */
public final class KubeClients {
  private KubeClients() {
  }

  /** A client for the kubeconfig asked for, else the in-cluster service account or ~/.kube/config. */
  public static KubernetesClient connect(KubeOptions options) {
    Optional<Path> kubeconfig = options.kubeconfigFile();
    Config config;
    if (kubeconfig.isPresent()) {
      try {
        config = Config.fromKubeconfig(Files.readString(kubeconfig.get()));
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
