package dev.dovetail.provisioner;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.harness.v1.Distribution;
import dev.dovetail.api.harness.v1.WorkloadDistributionRule;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec;
import dev.dovetail.api.karpenter.v1.Disruption;
import dev.dovetail.api.karpenter.v1.NodeClaimTemplate;
import dev.dovetail.api.karpenter.v1.NodeClaimTemplateSpec;
import dev.dovetail.api.karpenter.v1.NodeClassReference;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.NodePoolSpec;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.TemplateMetadata;
import dev.dovetail.provisioner.cloud.UnavailableOfferings;
import dev.dovetail.provisioner.cloud.sim.SimFaults;
import dev.dovetail.testkit.RepoPaths;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/** Objects the provisioner tests create. */
final class Fixtures {
  static final String TEST_LABEL = "dovetail.dev/test-pool";

  private Fixtures() {
  }

  /** The sample EC2NodeClass of manifests/samples, under another name. */
  static EC2NodeClass nodeClass(String name) {
    try {
      EC2NodeClass c = Serialization.unmarshal(Files.readString(RepoPaths.manifests().resolve("samples/ec2nodeclass-default.yaml")),
          EC2NodeClass.class);
      c.getMetadata().setName(name);
      return c;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A pool whose nodes carry {@code TEST_LABEL=<poolLabel>}, so a test's pods land only on its own nodes. */
  static NodePool nodePool(String name, String nodeClass, String poolLabel, Map<String, Quantity> limits, Integer weight,
      NodeSelectorRequirementWithMinValues... requirements) {
    NodePool p = new NodePool();
    p.setMetadata(new ObjectMetaBuilder().withName(name).build());
    p.setSpec(new NodePoolSpec(
        new NodeClaimTemplate(new TemplateMetadata(Map.of(TEST_LABEL, poolLabel), null),
            new NodeClaimTemplateSpec(null, null, List.of(requirements), NodeClassReference.ec2NodeClass(nodeClass), null, null)),
        // Emptiness only: tests about other things do not want their pods moved by consolidation.
        new Disruption("0s", Disruption.ConsolidationPolicy.WhenEmpty, null), limits, weight, null));
    return p;
  }

  /** The pool with another {@code spec.disruption}. */
  static NodePool withDisruption(NodePool pool, Disruption disruption) {
    NodePoolSpec s = pool.getSpec();
    pool.setSpec(new NodePoolSpec(s.template(), disruption, s.limits(), s.weight(), s.replicas()));
    return pool;
  }

  static Deployment deployment(String namespace, String name, int replicas, String cpu, String memory, String poolLabel) {
    return new DeploymentBuilder()
        .withNewMetadata().withName(name).withNamespace(namespace).endMetadata()
        .withNewSpec().withReplicas(replicas)
        .withNewSelector().addToMatchLabels("app", name).endSelector()
        .withNewTemplate()
        .withNewMetadata().addToLabels("app", name).endMetadata()
        .withNewSpec()
        .addToNodeSelector(TEST_LABEL, poolLabel)
        .addNewContainer().withName("app").withImage("registry.k8s.io/pause:3.10")
        .withNewResources().addToRequests("cpu", new Quantity(cpu)).addToRequests("memory", new Quantity(memory)).endResources()
        .endContainer()
        .endSpec().endTemplate().endSpec().build();
  }

  /** A namespace's distribution rule: {@code spot} % on spot after {@code baseOnDemand} on-demand replicas, every workload, CostOptimized. */
  static WorkloadDistributionRule rule(String name, String namespace, int spot, int baseOnDemand) {
    WorkloadDistributionRule rule = new WorkloadDistributionRule();
    rule.setMetadata(new ObjectMetaBuilder().withName(name).build());
    rule.setSpec(new WorkloadDistributionRuleSpec(namespace, new Distribution(spot, 100 - spot), "All", baseOnDemand,
        WorkloadDistributionRuleSpec.Strategy.CostOptimized));
    return rule;
  }

  static String unique(String prefix) {
    return prefix + "-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
  }

  /** Settings for an in-process provisioner: no boot delay, Karpenter's batch windows, no leader election unless asked. */
  static Operator.Settings settings(String identity, boolean leaderElection) {
    return new Operator.Settings("dovetail-test", Set.of("default-scheduler"), Duration.ofSeconds(1), Duration.ofSeconds(10),
        Duration.ofMinutes(15), Duration.ofSeconds(30), Set.of("kube-system"), SimFaults.NONE, Optional.empty(), "kube-system",
        new Operator.LeaderElection(leaderElection, "dovetail-provisioner-test", identity, Duration.ofSeconds(4), Duration.ofSeconds(3),
            Duration.ofMillis(500)), 10, Optional.empty(), Optional.empty(), Duration.ofMinutes(5),
        new Operator.Disruption(Duration.ofSeconds(2), false, List.of()), UnavailableOfferings.DEFAULT_TTL);
  }
}
