package dev.dovetail.testkit;

import com.dajudge.kindcontainer.KindContainer;
import com.dajudge.kindcontainer.KindContainerVersion;
import org.testcontainers.DockerClientFactory;

/**
 * A kind cluster in Docker (Testcontainers + kindcontainer), for machines with a Docker engine and
 * image pulls: {@code DOVETAIL_CONTROL_PLANE=kind} runs the *ApiTest tier on it instead of the local
 * binaries. Machines without an engine (CI here) skip it with a printed reason.
 */
public final class KindControlPlane extends BaseControlPlane {
  private final KindContainer<?> kind;

  private KindControlPlane(KindContainer<?> kind, String kubeconfigYaml) {
    super(writeKubeconfig("dovetail-kind", kubeconfigYaml), kubeconfigYaml);
    this.kind = kind;
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
      return new KindControlPlane(kind, kind.getKubeconfig());
    } catch (RuntimeException e) {
      kind.stop();
      throw e;
    }
  }

  @Override
  public String description() {
    return "kind " + KindContainerVersion.VERSION_1_34_0 + " in Docker (kindcontainer)";
  }

  @Override
  public void close() {
    client().close();
    kind.stop();
  }
}
