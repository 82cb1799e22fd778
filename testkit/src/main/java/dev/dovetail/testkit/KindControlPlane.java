package dev.dovetail.testkit;

import com.dajudge.kindcontainer.KindContainer;
import com.dajudge.kindcontainer.KindContainerVersion;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.testcontainers.DockerClientFactory;

/**
 * A kind cluster in Docker (Testcontainers + kindcontainer), for machines with a Docker engine and
 * image pulls: {@code DOVETAIL_CONTROL_PLANE=kind} runs the *ApiTest tier on it instead of the local
 * binaries. Machines without an engine (CI here) skip it with a printed reason.
 */
public final class KindControlPlane implements ControlPlane {
  private final KindContainer<?> kind;
  private final Path kubeconfig;
  private final KubernetesClient client;

  private KindControlPlane(KindContainer<?> kind, Path kubeconfig, KubernetesClient client) {
    this.kind = kind;
    this.kubeconfig = kubeconfig;
    this.client = client;
  }

  /** True when a Docker engine answers. */
  public static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }

  @SuppressWarnings("resource")
  public static KindControlPlane start() {
    KindContainer<?> kind = new KindContainer<>(KindContainerVersion.VERSION_1_34_0);
    kind.start();
    try {
      String yaml = kind.getKubeconfig();
      Path kubeconfig = Files.createTempFile("dovetail-kind", ".kubeconfig");
      Files.writeString(kubeconfig, yaml);
      kubeconfig.toFile().deleteOnExit();
      return new KindControlPlane(kind, kubeconfig, new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(yaml)).build());
    } catch (IOException e) {
      kind.stop();
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public Path kubeconfig() {
    return kubeconfig;
  }

  @Override
  public KubernetesClient client() {
    return client;
  }

  @Override
  public String description() {
    return "kind " + KindContainerVersion.VERSION_1_34_0 + " in Docker (kindcontainer)";
  }

  @Override
  public void close() {
    client.close();
    kind.stop();
  }
}
