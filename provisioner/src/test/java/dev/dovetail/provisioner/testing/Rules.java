package dev.dovetail.provisioner.testing;

import dev.dovetail.api.harness.v1.Distribution;
import dev.dovetail.api.harness.v1.WorkloadDistributionRule;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Map;

/** WorkloadDistributionRules for a test's namespace. */
public final class Rules {
  private Rules() {
  }

  /** Creates the namespace's rule (named after it): this share of every workload on spot, no base, CostOptimized, all workloads. */
  public static WorkloadDistributionRule create(KubernetesClient client, String namespace, int spotPercent) {
    WorkloadDistributionRule rule = new WorkloadDistributionRule();
    rule.setMetadata(new ObjectMetaBuilder().withName(namespace).withLabels(Map.of(Names.TEST_LABEL, "true")).build());
    rule.setSpec(new WorkloadDistributionRuleSpec(namespace, new Distribution(spotPercent, 100 - spotPercent), "All", 0,
        WorkloadDistributionRuleSpec.Strategy.CostOptimized));
    return client.resource(rule).create();
  }
}
