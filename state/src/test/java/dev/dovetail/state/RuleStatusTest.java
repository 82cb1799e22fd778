package dev.dovetail.state;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.distribution.DistributionRule;
import dev.dovetail.api.distribution.RuleSet;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec.Selector;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec.Strategy;
import dev.dovetail.api.scheduling.Resources;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RuleStatusTest {
  private static NodeFacts node(String name, CapacityType type, boolean fallback) {
    return new NodeFacts(name, Optional.ofNullable(type), fallback, "us-east-1a", "m5.large", "general", 0.1, 0, Resources.NONE, true);
  }

  private static RuleSet.Entry rule(String name, String namespace) {
    return new RuleSet.Entry(name, Instant.parse("2026-11-01T00:00:00Z"), Optional.ofNullable(namespace),
        new DistributionRule(70, 30, 0, Selector.All, Strategy.CostOptimized));
  }

  private static Pod pod(String ns, String name, String owner, String ownerKind, String node) {
    PodBuilder b = new PodBuilder().withNewMetadata().withNamespace(ns).withName(name).withUid(name).endMetadata()
        .withNewSpec().withNodeName(node).endSpec().withNewStatus().withPhase("Running").endStatus();
    if (owner != null) {
      b.editMetadata().addNewOwnerReference().withKind(ownerKind).withName(owner).withUid(owner).withController(true).endOwnerReference()
          .endMetadata();
    }
    return b.build();
  }

  @Test
  void eachRuleCountsItsWorkloadsAndWhereTheirReplicasRun() {
    MemoryClusterView view = new MemoryClusterView()
        .node(node("spot-1", CapacityType.SPOT, false))
        .node(node("od-1", CapacityType.ON_DEMAND, false))
        .node(node("fallback-1", CapacityType.ON_DEMAND, true))
        .node(node("unlabelled", null, false))
        .rules(RuleSet.of(List.of(rule("cluster", null), rule("payments", "payments"))));
    List<Pod> pods = List.of(
        pod("shop", "web-1", "web-rs", "ReplicaSet", "spot-1"),
        pod("shop", "web-2", "web-rs", "ReplicaSet", "spot-1"),
        pod("shop", "web-3", "web-rs", "ReplicaSet", "od-1"),
        pod("shop", "web-4", "web-rs", "ReplicaSet", "fallback-1"),
        pod("shop", "cart-1", "cart-rs", "ReplicaSet", "unlabelled"),
        pod("shop", "pending", "web-rs", "ReplicaSet", null),
        pod("shop", "agent", "agent-ds", "DaemonSet", "spot-1"),
        pod("kube-system", "dns", "dns-rs", "ReplicaSet", "od-1"),
        pod("payments", "api-1", "api-rs", "ReplicaSet", "od-1"));
    Map<String, RuleStatus.Summary> summary = RuleStatus.summarize(view, pods, Set.of("kube-system"));
    RuleStatus.Summary cluster = summary.get("cluster");
    assertThat(cluster.workloads()).extracting(WorkloadKey::name).containsExactlyInAnyOrder("web-rs", "cart-rs");
    assertThat(cluster.spot()).isEqualTo(2);
    assertThat(cluster.onDemand()).isEqualTo(1);
    assertThat(cluster.fallback()).isEqualTo(1);
    RuleStatus.Summary payments = summary.get("payments");
    assertThat(payments.workloads()).hasSize(1);
    assertThat(payments.onDemand()).isEqualTo(1);
    assertThat(payments.spot()).isZero();
  }

  @Test
  void aRuleThatGovernsNothingIsAbsentAndFinishedPodsDoNotCount() {
    Pod done = new PodBuilder(pod("shop", "job-1", "job", "Job", "spot-1")).editStatus().withPhase("Succeeded").endStatus().build();
    MemoryClusterView view = new MemoryClusterView().node(node("spot-1", CapacityType.SPOT, false))
        .rules(RuleSet.of(List.of(rule("cluster", null))));
    assertThat(RuleStatus.summarize(view, List.of(done), Set.of())).isEmpty();
  }
}
