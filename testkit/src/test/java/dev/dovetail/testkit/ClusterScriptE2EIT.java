package dev.dovetail.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/**
 * scripts/cluster, as a newcomer runs it: up starts a cluster with the CRDs installed, env points at it,
 * up again reuses it, down stops it and leaves no process behind.
 */
@WithCluster
class ClusterScriptE2EIT {

  private static ProcessResult script(String... args) {
    List<String> command = new ArrayList<>(List.of(RepoPaths.root().resolve("scripts/cluster").toString()));
    command.addAll(List.of(args));
    return Processes.run(command, Map.of(), Duration.ofMinutes(5));
  }

  private static ProcessResult kubectl(String kubeconfig, String... args) {
    List<String> command = new ArrayList<>(List.of(K8sBinaries.binary("kubectl").toString(), "--kubeconfig", kubeconfig));
    command.addAll(List.of(args));
    return Processes.run(command, Map.of(), Duration.ofMinutes(1));
  }

  private static long processesOf(String name) {
    return ProcessHandle.allProcesses()
        .filter(p -> p.info().commandLine().map(c -> c.contains("/clusters/" + name + "/")).orElse(false))
        .count();
  }

  @Test
  void upEnvDownLeavesNothingBehind() {
    String name = "dt-script-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
    try {
      ProcessResult up = script("up", "--name", name).orThrow("scripts/cluster up");
      assertThat(up.stdout().strip()).startsWith("export KUBECONFIG=");
      String kubeconfig = up.stdout().strip().substring("export KUBECONFIG=".length());
      assertThat(script("env", "--name", name).orThrow("env").stdout().strip()).isEqualTo(up.stdout().strip());
      assertThat(kubectl(kubeconfig, "get", "crd", "-o", "name").orThrow("kubectl get crd").stdout())
          .contains("nodepools.karpenter.sh", "workloaddistributionrules.ccm.harness.io");
      assertThat(processesOf(name)).as("etcd, apiserver, controller manager, scheduler, kwok").isGreaterThanOrEqualTo(5);

      ProcessResult again = script("up", "--name", name).orThrow("second up");
      assertThat(again.stderr()).contains("already running");
    } finally {
      script("down", "--name", name).orThrow("scripts/cluster down");
    }
    assertThat(processesOf(name)).isZero();
    assertThat(script("status", "--name", name).exitCode()).isNotZero();
    assertThat(script("up", "--name", "Bad_Name").stderr()).contains("must be lower-case");
  }
}
