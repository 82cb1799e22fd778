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
    allowed(cp, "patch", "nodes");
    allowed(cp, "list", "pods");
    allowed(cp, "create", "pods", "--subresource=eviction");
    allowed(cp, "patch", "nodeclaims.karpenter.sh");
    allowed(cp, "get", "nodeclaims.karpenter.sh");
    allowed(cp, "create", "events");

    denied(cp, "delete", "nodes");
    denied(cp, "create", "pods");
    denied(cp, "get", "secrets");
    denied(cp, "delete", "nodeclaims.karpenter.sh");
    denied(cp, "update", "deployments.apps");
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
