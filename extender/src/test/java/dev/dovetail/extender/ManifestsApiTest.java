package dev.dovetail.extender;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.testkit.ControlPlane;
import dev.dovetail.testkit.ProcessResult;
import dev.dovetail.testkit.RepoPaths;
import dev.dovetail.testkit.WithApiServer;
import java.util.List;
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
    allowed(cp, "watch", "workloaddistributionrules.ccm.harness.io");
    allowed(cp, "list", "replicasets.apps");
    // Owners the watches have not delivered yet are read one by one (InformerClusterView.fetchOwners).
    for (String owner : List.of("replicasets.apps", "deployments.apps", "statefulsets.apps", "jobs.batch")) {
      allowed(cp, "get", owner);
    }
    allowed(cp, "watch", "nodes");
    denied(cp, "update", "workloaddistributionrules.ccm.harness.io");
    denied(cp, "delete", "nodes");
    denied(cp, "create", "nodeclaims.karpenter.sh");
  }

  /** RBAC allows it: kubectl answered "yes" (an error throws in {@link ControlPlane#canI}, it never counts as an answer). */
  private static void allowed(ControlPlane cp, String verb, String resource, String... flags) {
    assertThat(cp.canI(SA, verb, resource, flags)).as("%s may %s %s %s", SA, verb, resource, String.join(" ", flags)).isTrue();
  }

  /** RBAC denies it: kubectl answered "no", not an error. */
  private static void denied(ControlPlane cp, String verb, String resource, String... flags) {
    assertThat(cp.canI(SA, verb, resource, flags)).as("%s may not %s %s %s", SA, verb, resource, String.join(" ", flags)).isFalse();
  }
}
