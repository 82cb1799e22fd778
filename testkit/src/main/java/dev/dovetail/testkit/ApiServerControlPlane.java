package dev.dovetail.testkit;

import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubeapitest.KubeAPITestException;

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
    try {
      return startOnce();
    } catch (KubeAPITestException e) {
      // Seen once in CI (2026-12-06): the API server exited during startup, cause not recorded (a port taken between
      // kube-api-test choosing it and the server binding it would do that). A fresh start picks new ports.
      System.err.println("[dovetail] kube-apiserver did not start (" + e.getMessage() + "); starting it once more");
      return startOnce();
    }
  }

  private static ApiServerControlPlane startOnce() {
    KubeAPIServer server = new KubeAPIServer(KubeAPIServerConfigBuilder.anAPIServerConfig()
        // kube-api-test looks for <testDir>/k8s/<version>-<os>-<arch>, which is our cache layout.
        .withTestDir(K8sBinaries.dir().getParent().getParent().toString())
        .withApiServerVersion(K8sBinaries.version())
        .withOfflineMode(true)
        .withUpdateKubeConfig(false)
        .build());
    try {
      server.start();
    } catch (RuntimeException e) {
      server.stop();  // etcd may be up without its API server
      throw e;
    }
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
