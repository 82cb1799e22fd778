package dev.dovetail.provisioner.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.harness.v1.Distribution;
import dev.dovetail.api.harness.v1.WorkloadDistributionRule;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleStatus;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.testing.Expect;
import dev.dovetail.provisioner.testing.Kubelet;
import dev.dovetail.provisioner.testing.Names;
import dev.dovetail.provisioner.testing.Nodes;
import dev.dovetail.provisioner.testing.Pods;
import dev.dovetail.provisioner.testing.Sweep;
import dev.dovetail.provisioner.testing.TestOperator;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithApiServer;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * WorkloadDistributionRule status as the provisioner's leader reports it, on a real API server: the
 * workloads a rule governs and where their running replicas are, and Ready=False for a rule an older
 * one for the same namespace displaces.
 */
@WithApiServer
class RuleStatusApiTest {
  @RegisterExtension
  final TestOperator.PerTest operator = new TestOperator.PerTest();
  private TestOperator provisioner;

  @Test
  void aRuleReportsWhereItsReplicasRunAndADuplicateIsNotInForce(KubernetesClient client, TestNamespace ns) {
    // Everything is in place before the provisioner starts, so its first report (a second after it leads) has it all.
    Sweep.all(client);
    String base = Names.unique("rule");
    WorkloadDistributionRule inForce = client.resource(rule(base + "-a", ns.name())).create();
    WorkloadDistributionRule duplicate = client.resource(rule(base + "-b", ns.name())).create();
    Node spot = client.nodes().resource(Nodes.node(Nodes.label(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.SPOT))).create();
    Node onDemand = client.nodes().resource(Nodes.node(Nodes.label(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.ON_DEMAND))).create();
    Node fallback = client.nodes().resource(Nodes.node(Nodes.label(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.ON_DEMAND),
        Nodes.label(DovetailLabels.CAPACITY_FALLBACK, "true"))).create();
    for (Node n : new Node[] {spot, onDemand, fallback}) {
      Kubelet.runOn(client, Pods.pod(Pods.in(ns.name())), n.getMetadata().getName());
    }
    Kubelet.runOn(client, Pods.pod(Pods.in(ns.name())), spot.getMetadata().getName());
    client.pods().resource(Pods.pod(Pods.in(ns.name()))).create();  // not bound: not running anywhere, not counted
    provisioner = operator.start(client);

    WorkloadDistributionRuleStatus status = expectStatus(client, inForce.getMetadata().getName(),
        s -> Expect.has(s.conditions(), ConditionTypes.READY, Condition.Status.True, "InForce") && s.replicas() != null
            && s.replicas().spot() + s.replicas().onDemand() + s.replicas().fallback() == 4);
    assertThat(status.replicas()).isEqualTo(new WorkloadDistributionRuleStatus.ReplicaCounts(2, 1, 1));
    assertThat(status.workloads()).as("four running bare pods, each a workload of its own").isEqualTo(4);
    assertThat(status.observedGeneration()).isEqualTo(inForce.getMetadata().getGeneration());

    WorkloadDistributionRuleStatus displaced = expectStatus(client, duplicate.getMetadata().getName(),
        s -> Expect.has(s.conditions(), ConditionTypes.READY, Condition.Status.False, "Duplicate"));
    assertThat(Expect.get(displaced.conditions(), ConditionTypes.READY).orElseThrow().message()).contains(inForce.getMetadata().getName());
    assertThat(displaced.workloads()).isZero();
  }

  private static WorkloadDistributionRule rule(String name, String namespace) {
    WorkloadDistributionRule rule = new WorkloadDistributionRule();
    rule.setMetadata(new ObjectMetaBuilder().withName(name).withLabels(Map.of(Names.TEST_LABEL, "true")).build());
    rule.setSpec(new WorkloadDistributionRuleSpec(namespace, new Distribution(50, 50), "All", null, null));
    return rule;
  }

  private static WorkloadDistributionRuleStatus expectStatus(KubernetesClient client, String name,
      Predicate<WorkloadDistributionRuleStatus> until) {
    return Expect.eventually("WorkloadDistributionRule " + name + " status",
        () -> client.resources(WorkloadDistributionRule.class).withName(name).get().getStatus(), s -> s != null && until.test(s));
  }
}
