package dev.dovetail.provisioner.nodeclass;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.aws.v1.EC2NodeClassStatus;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.drift.Hashes;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.provisioner.testing.Expect;
import dev.dovetail.provisioner.testing.NodeClaims;
import dev.dovetail.provisioner.testing.NodeClasses;
import dev.dovetail.provisioner.testing.TestOperator;
import dev.dovetail.testkit.WithApiServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * EC2NodeClass status on a real API server, with the simulated cloud resolving the selectors: the
 * resolved subnets, security groups, images and instance profile with a condition each and Ready rolled
 * up; the class's hash and finalizer; and its deletion held while a NodeClaim uses it.
 */
@WithApiServer
class NodeClassStatusApiTest {
  private static final List<String> PARTS = List.of(ConditionTypes.SUBNETS_READY, ConditionTypes.SECURITY_GROUPS_READY, ConditionTypes.AMIS_READY,
      ConditionTypes.INSTANCE_PROFILE_READY, ConditionTypes.VALIDATION_SUCCEEDED);

  @RegisterExtension
  final TestOperator.PerTest operator = new TestOperator.PerTest();
  private TestOperator provisioner;

  @Test
  void aNodeClassResolvesItsSelectorsAndIsReady(KubernetesClient client) {
    provisioner = operator.start(client);
    EC2NodeClass ready = Expect.readyNodeClass(client, NodeClasses.nodeClass());

    EC2NodeClassStatus status = ready.getStatus();
    for (String part : PARTS) {
      assertThat(Expect.has(status.conditions(), part, Condition.Status.True, null)).as(part).isTrue();
    }
    Set<String> catalogZones = Catalog.bundled().all().stream().flatMap(t -> t.zones().stream()).collect(Collectors.toSet());
    assertThat(status.subnets()).isNotEmpty().allSatisfy(s -> assertThat(s.id()).startsWith("subnet-"));
    assertThat(status.subnets().stream().map(EC2NodeClassStatus.Subnet::zone).collect(Collectors.toSet())).as("one subnet per zone, tags match all")
        .isEqualTo(catalogZones);
    assertThat(status.securityGroups()).isNotEmpty();
    assertThat(status.amis()).isNotEmpty().allSatisfy(a -> assertThat(a.id()).startsWith("ami-"));
    assertThat(status.instanceProfile()).isNotBlank();
    assertThat(ready.getMetadata().getFinalizers()).contains(NodeClassController.FINALIZER);
    assertThat(ready.getMetadata().getAnnotations()).containsKey(Hashes.NODECLASS_HASH)
        .containsEntry(Hashes.NODECLASS_HASH_VERSION, Hashes.NODECLASS_HASH_VERSION_VALUE);
  }

  @Test
  void aNodeClassWhoseSubnetSelectorMatchesNothingIsNotReadyAndSaysWhy(KubernetesClient client) {
    provisioner = operator.start(client);
    EC2NodeClass nodeClass = client.resource(NodeClasses.nodeClass(c -> c.subnetIds("subnet-matches-nothing"))).create();

    EC2NodeClass notReady = expectClass(client, nodeClass.getMetadata().getName(), "Ready=False",
        c -> Expect.has(c.getStatus().conditions(), ConditionTypes.READY, Condition.Status.False, null));
    assertThat(Expect.has(notReady.getStatus().conditions(), ConditionTypes.SUBNETS_READY, Condition.Status.False, "SubnetsNotFound")).isTrue();
    assertThat(Expect.get(notReady.getStatus().conditions(), ConditionTypes.READY).orElseThrow().message()).contains(ConditionTypes.SUBNETS_READY)
        .doesNotContain(ConditionTypes.AMIS_READY);
    assertThat(notReady.getStatus().subnets()).isEmpty();
  }

  @Test
  void theHashFollowsWhatChangesANodeAndNotTheSelectors(KubernetesClient client) {
    provisioner = operator.start(client);
    EC2NodeClass nodeClass = Expect.readyNodeClass(client, NodeClasses.nodeClass());
    String name = nodeClass.getMetadata().getName();
    String first = nodeClass.getMetadata().getAnnotations().get(Hashes.NODECLASS_HASH);

    // Subnets are resolved, and drift by what they resolve to: a new selector is not a new hash.
    patch(client, name, "{\"spec\":{\"subnetSelectorTerms\":[{\"tags\":{\"karpenter.sh/discovery\":\"elsewhere\"}}]}}");
    // Tags go on every instance: they are.
    patch(client, name, "{\"spec\":{\"tags\":{\"team\":\"payments\"}}}");
    String second = expectHash(client, name, h -> h != null && !h.equals(first));
    patch(client, name, "{\"spec\":{\"tags\":null}}");
    assertThat(expectHash(client, name, h -> h != null && !h.equals(second))).as("only the tags changed back").isEqualTo(first);
  }

  @Test
  void aNodeClassInUseIsDeletedOnlyOnceNoClaimUsesIt(KubernetesClient client) {
    provisioner = operator.start(client);
    EC2NodeClass nodeClass = Expect.readyNodeClass(client, NodeClasses.nodeClass());
    String name = nodeClass.getMetadata().getName();
    NodeClaim claim = client.resource(NodeClaims.nodeClaim(c -> c.nodeClass(name))).create();
    Expect.launched(client, claim.getMetadata().getName());

    client.resources(EC2NodeClass.class).withName(name).delete();
    assertThat(Expect.event(client, "default", name, "WaitingOnNodeClaimTermination").getMessage()).contains(claim.getMetadata().getName());
    assertThat(client.resources(EC2NodeClass.class).withName(name).get()).as("held by its finalizer").isNotNull();

    client.resources(NodeClaim.class).withName(claim.getMetadata().getName()).delete();
    Expect.gone(client, NodeClaim.class, claim.getMetadata().getName());
    Expect.gone(client, EC2NodeClass.class, name);
  }

  private static EC2NodeClass expectClass(KubernetesClient client, String name, String what, Predicate<EC2NodeClass> until) {
    return Expect.eventually("EC2NodeClass " + name + ": " + what, () -> client.resources(EC2NodeClass.class).withName(name).get(),
        c -> c.getStatus() != null && until.test(c), c -> String.valueOf(c.getStatus()));
  }

  private static void patch(KubernetesClient client, String name, String mergePatch) {
    client.resources(EC2NodeClass.class).withName(name).patch(PatchContext.of(PatchType.JSON_MERGE), mergePatch);
  }

  private static String expectHash(KubernetesClient client, String name, Predicate<String> until) {
    return Expect.eventually("EC2NodeClass " + name + " hash", () -> {
      Map<String, String> annotations = client.resources(EC2NodeClass.class).withName(name).get().getMetadata().getAnnotations();
      return annotations == null ? null : annotations.get(Hashes.NODECLASS_HASH);
    }, until);
  }
}
