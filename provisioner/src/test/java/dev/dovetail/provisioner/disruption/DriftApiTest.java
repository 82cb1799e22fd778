package dev.dovetail.provisioner.disruption;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.common.Condition;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.Disruption;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.kube.DisruptedTaint;
import dev.dovetail.provisioner.testing.Expect;
import dev.dovetail.provisioner.testing.Kubelet;
import dev.dovetail.provisioner.testing.TestOperator;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithApiServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Drift on a real API server: a NodePool whose requirements no longer allow a node's instance type marks
 * its claim {@code Drifted} ({@code RequirementsDrifted}), and the drift method replaces it — the
 * replacement, of a type the pool allows now, Initialized before the drifted claim is deleted — whatever
 * the pool's consolidation policy.
 */
@WithApiServer
class DriftApiTest {
  @RegisterExtension
  final TestOperator.PerTest operator = new TestOperator.PerTest();

  @Test
  void aNodeWhosePoolNoLongerAllowsItsTypeIsReplacedByOneItDoes(KubernetesClient client, TestNamespace ns) {
    operator.start(client);
    String pool = ConsolidationApiTest.pool(client, new Disruption("Never", Disruption.ConsolidationPolicy.WhenEmpty, null),
        WellKnownLabels.ON_DEMAND, "m5.large", "m5.xlarge");
    String old = ConsolidationApiTest.claimWithPod(client, ns, pool, "m5.large", WellKnownLabels.ON_DEMAND);
    ConsolidationApiTest.release(client, old);
    assertThat(Expect.condition(client.resources(NodeClaim.class).withName(old).get(), ConditionTypes.DRIFTED)).as("nothing changed yet")
        .isEmpty();

    NodePool current = client.resources(NodePool.class).withName(pool).get();
    String requirements = client.getKubernetesSerialization().asJson(current.getSpec().template().spec().requirements()).replace("\"m5.large\",", "");
    client.resources(NodePool.class).withName(pool).patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"spec\":{\"template\":{\"spec\":{\"requirements\":" + requirements + "}}}}");

    Expect.condition(client, old, ConditionTypes.DRIFTED, Condition.Status.True, "RequirementsDrifted");
    NodeClaim replacement = ConsolidationApiTest.replacement(client, pool, old);
    assertThat(Expect.launched(client, replacement.getMetadata().getName()).getMetadata().getLabels())
        .containsEntry(WellKnownLabels.INSTANCE_TYPE, "m5.xlarge");
    assertThat(DisruptedTaint.present(ConsolidationApiTest.nodeOf(client, old))).as("tainted while it waits").isTrue();
    assertThat(client.resources(NodeClaim.class).withName(old).get().getMetadata().getDeletionTimestamp()).isNull();

    Kubelet.join(client, replacement.getMetadata().getName());
    Expect.claim(client, old, "deleted once the replacement is Initialized", c -> c.getMetadata().getDeletionTimestamp() != null);
    assertThat(Expect.condition(client.resources(NodeClaim.class).withName(replacement.getMetadata().getName()).get(), ConditionTypes.DRIFTED))
        .as("the replacement matches the pool").isEmpty();
  }
}
