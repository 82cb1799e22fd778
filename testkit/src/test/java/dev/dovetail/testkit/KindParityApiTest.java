package dev.dovetail.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Files;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.testcontainers.junit.jupiter.Testcontainers;

/**
 * Parity check on kind (Docker): the CRDs install and a sample NodePool is defaulted as on the local
 * binaries. Runs only with -Pdocker on a machine with a Docker engine; elsewhere it is excluded, or
 * skipped by Testcontainers with the reason that no engine answers.
 */
@Tag("docker")
@Testcontainers(disabledWithoutDocker = true)
class KindParityApiTest {

  @Test
  void crdsInstallAndDefaultOnKind() throws Exception {
    try (KindControlPlane kind = KindControlPlane.start()) {
      ControlPlaneExtension.installCrds(kind.client());
      GenericKubernetesResource pool = Serialization.unmarshal(
          Files.readString(RepoPaths.manifests().resolve("samples/nodepool-gpu.yaml")), GenericKubernetesResource.class);
      GenericKubernetesResource created = kind.client().resource(pool).create();
      assertThat(created.get("spec", "disruption", "consolidateAfter").toString()).isEqualTo("0s");
      assertThat(created.get("spec", "template", "spec", "expireAfter").toString()).isEqualTo("720h");
    }
  }
}
