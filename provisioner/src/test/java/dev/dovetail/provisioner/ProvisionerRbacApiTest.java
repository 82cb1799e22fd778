package dev.dovetail.provisioner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.testkit.ControlPlane;
import dev.dovetail.testkit.ProcessResult;
import dev.dovetail.testkit.RepoPaths;
import dev.dovetail.testkit.WithApiServer;
import org.junit.jupiter.api.Test;

/**
 * manifests/provisioner on a real API server: the Deployment is valid, and the ServiceAccount can do what
 * the provisioner does (NodeClaims, node lifecycle, nominations, evictions, its Lease) and no more
 * (no secrets, no workloads, no Leases outside its namespace).
 */
@WithApiServer
class ProvisionerRbacApiTest {
  private static final String SA = "kube-system:dovetail-provisioner";

  @Test
  void theDeploymentIsAccepted(ControlPlane cp) {
    ProcessResult dryRun = cp.kubectl("apply", "--dry-run=server", "-f", RepoPaths.manifests().resolve("provisioner/deployment.yaml").toString());
    assertThat(dryRun.exitCode()).as(dryRun.stderr()).isZero();
    assertThat(dryRun.stdout()).contains("deployment.apps/dovetail-provisioner created (server dry run)")
        .contains("poddisruptionbudget.policy/dovetail-provisioner created (server dry run)");
  }

  @Test
  void theProvisionerMayDoItsWorkAndNothingElse(ControlPlane cp) {
    cp.kubectl("apply", "-f", RepoPaths.manifests().resolve("provisioner/rbac.yaml").toString()).orThrow("apply rbac");
    allowed(cp, "create", "nodeclaims.karpenter.sh");
    allowed(cp, "update", "nodeclaims.karpenter.sh", "--subresource=status");
    allowed(cp, "patch", "nodepools.karpenter.sh", "--subresource=status");
    allowed(cp, "patch", "ec2nodeclasses.karpenter.k8s.aws");
    allowed(cp, "delete", "nodes");
    allowed(cp, "create", "pods", "--subresource=eviction");
    allowed(cp, "watch", "daemonsets.apps");
    allowed(cp, "update", "leases.coordination.k8s.io", "-n", "kube-system");

    denied(cp, "update", "leases.coordination.k8s.io", "-n", "default");
    denied(cp, "get", "secrets");
    denied(cp, "delete", "deployments.apps");
    denied(cp, "create", "pods");
    denied(cp, "patch", "pods");
    denied(cp, "patch", "pods", "--subresource=status");
    denied(cp, "delete", "nodepools.karpenter.sh");
    denied(cp, "update", "workloaddistributionrules.ccm.harness.io");
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
