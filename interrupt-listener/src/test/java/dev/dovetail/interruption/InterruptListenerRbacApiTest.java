package dev.dovetail.interruption;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.testkit.ControlPlane;
import dev.dovetail.testkit.ProcessResult;
import dev.dovetail.testkit.RepoPaths;
import dev.dovetail.testkit.WithApiServer;
import org.junit.jupiter.api.Test;

/** manifests/interrupt-listener on a real API server: a valid DaemonSet, and an agent that can drain its node and no more. */
@WithApiServer
class InterruptListenerRbacApiTest {
  private static final String SA = "kube-system:dovetail-interrupt-listener";

  @Test
  void theDaemonSetIsAccepted(ControlPlane cp) {
    ProcessResult dryRun = cp.kubectl("apply", "--dry-run=server", "-f",
        RepoPaths.manifests().resolve("interrupt-listener/daemonset.yaml").toString());
    assertThat(dryRun.exitCode()).as(dryRun.stderr()).isZero();
    assertThat(dryRun.stdout()).contains("daemonset.apps/dovetail-interrupt-listener created (server dry run)");
  }

  @Test
  void theAgentMayTaintDrainAndMarkButNothingElse(ControlPlane cp) {
    cp.kubectl("apply", "-f", RepoPaths.manifests().resolve("interrupt-listener/rbac.yaml").toString()).orThrow("apply rbac");
    assertThat(canI(cp, "patch", "nodes")).isTrue();
    assertThat(canI(cp, "list", "pods")).isTrue();
    assertThat(canI(cp, "create", "pods", "--subresource=eviction")).isTrue();
    assertThat(canI(cp, "patch", "nodeclaims.karpenter.sh")).isTrue();
    assertThat(canI(cp, "create", "events")).isTrue();

    assertThat(canI(cp, "delete", "nodes")).isFalse();
    assertThat(canI(cp, "create", "pods")).isFalse();
    assertThat(canI(cp, "get", "secrets")).isFalse();
    assertThat(canI(cp, "delete", "nodeclaims.karpenter.sh")).isFalse();
    assertThat(canI(cp, "update", "deployments.apps")).isFalse();
  }

  private static boolean canI(ControlPlane cp, String verb, String resource, String... flags) {
    return cp.canI(SA, verb, resource, flags);
  }
}
