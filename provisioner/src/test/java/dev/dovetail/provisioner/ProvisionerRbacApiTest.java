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
    assertThat(canI(cp, "create", "nodeclaims.karpenter.sh")).isTrue();
    assertThat(canI(cp, "update", "nodeclaims.karpenter.sh", "--subresource=status")).isTrue();
    assertThat(canI(cp, "patch", "nodepools.karpenter.sh", "--subresource=status")).isTrue();
    assertThat(canI(cp, "patch", "ec2nodeclasses.karpenter.k8s.aws")).isTrue();
    assertThat(canI(cp, "delete", "nodes")).isTrue();
    assertThat(canI(cp, "patch", "pods", "--subresource=status")).isTrue();
    assertThat(canI(cp, "create", "pods", "--subresource=eviction")).isTrue();
    assertThat(canI(cp, "watch", "daemonsets.apps")).isTrue();
    assertThat(canI(cp, "update", "leases.coordination.k8s.io", "-n", "kube-system")).isTrue();

    assertThat(canI(cp, "update", "leases.coordination.k8s.io", "-n", "default")).isFalse();
    assertThat(canI(cp, "get", "secrets")).isFalse();
    assertThat(canI(cp, "delete", "deployments.apps")).isFalse();
    assertThat(canI(cp, "create", "pods")).isFalse();
    assertThat(canI(cp, "delete", "nodepools.karpenter.sh")).isFalse();
    assertThat(canI(cp, "update", "workloaddistributionrules.ccm.harness.io")).isFalse();
  }

  private static boolean canI(ControlPlane cp, String verb, String resource, String... flags) {
    return cp.canI(SA, verb, resource, flags);
  }
}
