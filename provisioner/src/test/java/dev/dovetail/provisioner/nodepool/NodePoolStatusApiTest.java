package dev.dovetail.provisioner.nodepool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.drift.Hashes;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.NodePoolStatus;
import dev.dovetail.provisioner.testing.Expect;
import dev.dovetail.provisioner.testing.Kubelet;
import dev.dovetail.provisioner.testing.NodeClaims;
import dev.dovetail.provisioner.testing.NodeClasses;
import dev.dovetail.provisioner.testing.NodePools;
import dev.dovetail.provisioner.testing.TestOperator;
import dev.dovetail.testkit.WithApiServer;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * NodePool status on a real API server: the conditions (the node class rolled into Ready), the resources
 * and node count of the pool's NodeClaims, and the template hash drift detection compares against.
 */
@WithApiServer
class NodePoolStatusApiTest {
  @RegisterExtension
  final TestOperator.PerTest operator = new TestOperator.PerTest();
  private TestOperator provisioner;

  @Test
  void aPoolIsReadyOnlyOnceItsNodeClassIsFoundAndReady(KubernetesClient client) {
    provisioner = operator.start(client);
    EC2NodeClass nodeClass = NodeClasses.nodeClass();
    NodePool pool = client.resource(NodePools.nodePool(p -> p.nodeClass(nodeClass.getMetadata().getName()))).create();
    String name = pool.getMetadata().getName();

    NodePool waiting = expectPool(client, name, "NodeClassReady=False/NodeClassNotFound",
        p -> has(p, ConditionTypes.NODE_CLASS_READY, Condition.Status.False, "NodeClassNotFound"));
    assertThat(has(waiting, ConditionTypes.READY, Condition.Status.False, null)).isTrue();
    assertThat(has(waiting, ConditionTypes.VALIDATION_SUCCEEDED, Condition.Status.True, null)).isTrue();
    assertThat(Expect.get(waiting.getStatus().conditions(), ConditionTypes.READY).orElseThrow().message())
        .contains(nodeClass.getMetadata().getName());

    EC2NodeClass ready = Expect.readyNodeClass(client, nodeClass);
    NodePool readyPool = expectPool(client, name, "Ready=True", p -> has(p, ConditionTypes.READY, Condition.Status.True, null));
    assertThat(has(readyPool, ConditionTypes.NODE_CLASS_READY, Condition.Status.True, null)).isTrue();
    assertThat(readyPool.getStatus().nodeClassObservedGeneration()).isEqualTo(ready.getMetadata().getGeneration());
  }

  @Test
  void aPoolCountsTheResourcesOfItsClaimsAndTheNodesTheyRegistered(KubernetesClient client) {
    provisioner = operator.start(client);
    EC2NodeClass nodeClass = Expect.readyNodeClass(client, NodeClasses.nodeClass());
    String classRef = nodeClass.getMetadata().getName();
    NodePool pool = client.resource(NodePools.nodePool(p -> p.nodeClass(classRef))).create();
    String name = pool.getMetadata().getName();
    NodeClaim joined = client.resource(NodeClaims.nodeClaim(c -> c.nodeClass(classRef), c -> c.nodePool(name))).create();
    NodeClaim launchedOnly = client.resource(NodeClaims.nodeClaim(c -> c.nodeClass(classRef), c -> c.nodePool(name),
        c -> c.requests("3", "4Gi"))).create();
    client.resource(NodeClaims.nodeClaim(c -> c.nodeClass(classRef), c -> c.nodePool("another-pool"))).create();
    Kubelet.join(client, joined.getMetadata().getName());
    Expect.launched(client, launchedOnly.getMetadata().getName());

    expectCounts(client, name);
    assertThat(pool(client, name).getStatus().nodes()).isEqualTo(1);

    client.resources(NodeClaim.class).withName(joined.getMetadata().getName()).delete();
    Expect.gone(client, NodeClaim.class, joined.getMetadata().getName());
    expectCounts(client, name);
    assertThat(pool(client, name).getStatus().nodes()).isZero();
  }

  @Test
  void aPoolCarriesTheHashOfItsTemplateWhichLimitsAndRequirementsDoNotChange(KubernetesClient client) {
    provisioner = operator.start(client);
    EC2NodeClass nodeClass = Expect.readyNodeClass(client, NodeClasses.nodeClass());
    NodePool pool = client.resource(NodePools.nodePool(p -> p.nodeClass(nodeClass.getMetadata().getName()))).create();
    String name = pool.getMetadata().getName();
    String first = expectHash(client, name, Objects::nonNull);
    assertThat(pool(client, name).getMetadata().getAnnotations()).containsEntry(Hashes.NODEPOOL_HASH_VERSION, Hashes.NODEPOOL_HASH_VERSION_VALUE);

    // Limits are not part of the template, and requirements drift on their own: neither changes the hash.
    patch(client, name, "{\"spec\":{\"limits\":{\"cpu\":\"100\"},\"template\":{\"spec\":{\"requirements\":"
        + "[{\"key\":\"kubernetes.io/arch\",\"operator\":\"In\",\"values\":[\"arm64\"]}]}}}}");
    // A template label does: nodes made before it no longer match.
    patch(client, name, "{\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"dovetail.dev/api-test\":\"true\",\"team\":\"payments\"}}}}}");
    String second = expectHash(client, name, h -> h != null && !h.equals(first));

    patch(client, name, "{\"spec\":{\"limits\":{\"cpu\":\"200\"},\"template\":{\"spec\":{\"requirements\":"
        + "[{\"key\":\"kubernetes.io/arch\",\"operator\":\"In\",\"values\":[\"amd64\"]}]}}}}");
    patch(client, name, "{\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"team\":null}}}}}");
    assertThat(expectHash(client, name, h -> h != null && !h.equals(second))).as("back to the first template").isEqualTo(first);
  }

  // ---------------------------------------------------------------- helpers

  private static NodePool pool(KubernetesClient client, String name) {
    return client.resources(NodePool.class).withName(name).get();
  }

  private static NodePool expectPool(KubernetesClient client, String name, String what, Predicate<NodePool> until) {
    return Expect.eventually("NodePool " + name + ": " + what, () -> pool(client, name), p -> p.getStatus() != null && until.test(p),
        p -> String.valueOf(p.getStatus()));
  }

  private static boolean has(NodePool pool, String type, Condition.Status status, String reason) {
    return Expect.has(pool.getStatus().conditions(), type, status, reason);
  }

  private static void patch(KubernetesClient client, String name, String mergePatch) {
    client.resources(NodePool.class).withName(name).patch(PatchContext.of(PatchType.JSON_MERGE), mergePatch);
  }

  private static String expectHash(KubernetesClient client, String name, Predicate<String> until) {
    return Expect.eventually("NodePool " + name + " hash", () -> {
      Map<String, String> annotations = pool(client, name).getMetadata().getAnnotations();
      return annotations == null ? null : annotations.get(Hashes.NODEPOOL_HASH);
    }, until);
  }

  /** Until the pool's status counts what its claims say: their capacities summed, and those with a node. */
  private static void expectCounts(KubernetesClient client, String name) {
    Expect.eventually("NodePool " + name + " counts its claims", () -> {
      List<NodeClaim> claims = client.resources(NodeClaim.class).withLabel("karpenter.sh/nodepool", name).list().getItems();
      Map<String, BigDecimal> resources = new TreeMap<>();
      claims.forEach(c -> c.getStatus().capacity().forEach((k, v) -> resources.merge(k, v.getNumericalAmount(), BigDecimal::add)));
      long nodes = claims.stream().filter(c -> c.getStatus().nodeName() != null).count();
      NodePoolStatus status = pool(client, name).getStatus();
      return status != null && status.resources() != null && amounts(status.resources()).equals(strip(resources)) && status.nodes() == nodes;
    }, ok -> ok);
  }

  private static Map<String, BigDecimal> amounts(Map<String, Quantity> quantities) {
    Map<String, BigDecimal> out = new TreeMap<>();
    quantities.forEach((k, v) -> out.put(k, v.getNumericalAmount()));
    return strip(out);
  }

  private static Map<String, BigDecimal> strip(Map<String, BigDecimal> amounts) {
    Map<String, BigDecimal> out = new TreeMap<>();
    amounts.forEach((k, v) -> out.put(k, v.stripTrailingZeros()));
    return out;
  }
}
