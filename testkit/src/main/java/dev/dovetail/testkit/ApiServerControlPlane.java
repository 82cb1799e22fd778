package dev.dovetail.testkit;

import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * etcd and kube-apiserver from the local binary cache, started by fabric8 kube-api-test in offline
 * mode: no scheduler, no controllers, so namespaces never finish deleting and Pods stay Pending.
 */
public final class ApiServerControlPlane implements ControlPlane {
  private final KubeAPIServer server;
  private final Path kubeconfig;
  private final KubernetesClient client;

  private ApiServerControlPlane(KubeAPIServer server, Path kubeconfig, KubernetesClient client) {
    this.server = server;
    this.kubeconfig = kubeconfig;
    this.client = client;
  }

  public static ApiServerControlPlane start() {
    Path binDir = K8sBinaries.dir();
    KubeAPIServer server = new KubeAPIServer(KubeAPIServerConfigBuilder.anAPIServerConfig()
        // kube-api-test looks for <testDir>/k8s/<version>-<os>-<arch>, which is our cache layout.
        .withTestDir(binDir.getParent().getParent().toString())
        .withApiServerVersion(K8sBinaries.version())
        .withOfflineMode(true)
        .withUpdateKubeConfig(false)
        .build());
    server.start();
    try {
      String yaml = server.getKubeConfigYaml();
      Path kubeconfig = Files.createTempFile("dovetail-apiserver", ".kubeconfig");
      Files.writeString(kubeconfig, yaml);
      kubeconfig.toFile().deleteOnExit();
      KubernetesClient client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(yaml)).build();
      return new ApiServerControlPlane(server, kubeconfig, client);
    } catch (IOException e) {
      server.stop();
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      server.stop();
      throw e;
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
    return "kube-apiserver + etcd " + K8sBinaries.version() + " (kube-api-test, binaries in " + K8sBinaries.dir() + ")";
  }

  @Override
  public void close() {
    client.close();
    server.stop();
  }
}
