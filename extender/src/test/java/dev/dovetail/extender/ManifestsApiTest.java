package dev.dovetail.extender;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.testkit.ControlPlane;
import dev.dovetail.testkit.ProcessResult;
import dev.dovetail.testkit.RepoPaths;
import dev.dovetail.testkit.WithApiServer;
import org.junit.jupiter.api.Test;

/** manifests/ is valid for a real API server, and the extender's access is read-only. */
@WithApiServer
class ManifestsApiTest {
  private static final String SA = "kube-system:dovetail-scheduler";

  @Test
  void everyManifestIsAcceptedByTheApiServer(ControlPlane cp) {
    ProcessResult dryRun = cp.kubectl("apply", "--dry-run=server", "-k", RepoPaths.manifests().toString());
    assertThat(dryRun.exitCode()).as(dryRun.stderr()).isZero();
    assertThat(dryRun.stdout()).contains("deployment.apps/dovetail-scheduler created (server dry run)")
        .contains("configmap/dovetail-scheduler-config created (server dry run)");
  }

  @Test
  void theExtenderReadsButDoesNotWrite(ControlPlane cp) {
    cp.kubectl("apply", "-f", RepoPaths.manifests().resolve("extender/rbac.yaml").toString()).orThrow("apply rbac");
    assertThat(canI(cp, "watch", "workloaddistributionrules.ccm.harness.io")).isTrue();
    assertThat(canI(cp, "list", "replicasets.apps")).isTrue();
    assertThat(canI(cp, "watch", "nodes")).isTrue();
    assertThat(canI(cp, "update", "workloaddistributionrules.ccm.harness.io")).isFalse();
    assertThat(canI(cp, "delete", "nodes")).isFalse();
    assertThat(canI(cp, "create", "nodeclaims.karpenter.sh")).isFalse();
  }

  private static boolean canI(ControlPlane cp, String verb, String resource) {
    return cp.canI(SA, verb, resource);
  }
}
