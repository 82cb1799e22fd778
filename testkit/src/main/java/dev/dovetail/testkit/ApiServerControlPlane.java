package dev.dovetail.testkit;

import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;

/**
 * etcd and kube-apiserver from the local binary cache, started by fabric8 kube-api-test in offline
 * mode: no scheduler, no controllers, so namespaces never finish deleting and Pods stay Pending.
 */
public final class ApiServerControlPlane extends BaseControlPlane {
  private final KubeAPIServer server;

  private ApiServerControlPlane(KubeAPIServer server, String kubeconfigYaml) {
    super(writeKubeconfig("dovetail-apiserver", kubeconfigYaml), kubeconfigYaml);
    this.server = server;
  }

  public static ApiServerControlPlane start() {
    KubeAPIServer server = new KubeAPIServer(KubeAPIServerConfigBuilder.anAPIServerConfig()
        // kube-api-test looks for <testDir>/k8s/<version>-<os>-<arch>, which is our cache layout.
        .withTestDir(K8sBinaries.dir().getParent().getParent().toString())
        .withApiServerVersion(K8sBinaries.version())
        .withOfflineMode(true)
        .withUpdateKubeConfig(false)
        .build());
    server.start();
    try {
      return new ApiServerControlPlane(server, server.getKubeConfigYaml());
    } catch (RuntimeException e) {
      server.stop();
      throw e;
    }
  }

  @Override
  public String description() {
    return "kube-apiserver + etcd " + K8sBinaries.version() + " (kube-api-test, binaries in " + K8sBinaries.dir() + ")";
  }

  @Override
  public void close() {
    client().close();
    server.stop();
  }
}
