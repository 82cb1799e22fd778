package dev.dovetail.testkit;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The kubeconfig file and admin client every control plane hands to tests. */
abstract class BaseControlPlane implements ControlPlane {
  private final Path kubeconfig;
  private final KubernetesClient client;

  BaseControlPlane(Path kubeconfig, String kubeconfigYaml) {
    this.kubeconfig = kubeconfig;
    this.client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(kubeconfigYaml)).build();
  }

  /** Writes a kubeconfig to a temporary file that is removed when the JVM exits. */
  static Path writeKubeconfig(String prefix, String yaml) {
    try {
      Path file = Files.createTempFile(prefix, ".kubeconfig");
      Files.writeString(file, yaml);
      file.toFile().deleteOnExit();
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public final Path kubeconfig() {
    return kubeconfig;
  }

  @Override
  public final KubernetesClient client() {
    return client;
  }
}
