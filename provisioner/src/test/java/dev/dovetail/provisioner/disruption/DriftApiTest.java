package dev.dovetail.provisioner.disruption;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dovetail.api.common.Condition;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.Disruption;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.cloud.Instance;
import dev.dovetail.provisioner.cluster.Caches;
import dev.dovetail.provisioner.kube.DisruptedTaint;
import dev.dovetail.provisioner.testing.Expect;
import dev.dovetail.provisioner.testing.Kubelet;
import dev.dovetail.provisioner.testing.NodeClaims;
import dev.dovetail.provisioner.testing.Pods;
import dev.dovetail.provisioner.testing.TestOperator;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithApiServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
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

    disallow(client, pool, "\"m5.large\",");

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

  /**
   * A drift that needs two replacements, one of which the API server refuses (a ValidatingAdmissionPolicy
   * turns away NodeClaims asking for more than 2Gi), is abandoned each time it is tried: the replacement
   * that was made is deleted again and the drifted claim and its pods stay. Once the refusal is lifted the
   * drift completes with both replacements, and no claim or instance of the refused attempts is left.
   */
  @Test
  void aDriftWhoseSecondReplacementIsRefusedLeavesNoHalfOfIt(KubernetesClient client, TestNamespace ns) throws Exception {
    TestOperator dovetail = operator.start(client);
    String pool = ConsolidationApiTest.pool(client, new Disruption("Never", Disruption.ConsolidationPolicy.WhenEmpty, null),
        WellKnownLabels.ON_DEMAND, "m5.large", "m5.xlarge");
    // Two pods no m5.large holds together: a replacement each, one asking for 1Gi and one for 3Gi.
    String old = ConsolidationApiTest.claimWith(client, pool, "m5.xlarge", WellKnownLabels.ON_DEMAND,
        Pods.pod(Pods.in(ns.name()), Pods.requests("1500m", "1Gi")), Pods.pod(Pods.in(ns.name()), Pods.requests("1500m", "3Gi")));
    ConsolidationApiTest.release(client, old);

    Set<String> made = ConcurrentHashMap.newKeySet();
    Set<String> gone = ConcurrentHashMap.newKeySet();
    AtomicBoolean oldDeleted = new AtomicBoolean();
    try (SharedIndexInformer<NodeClaim> watch = client.resources(NodeClaim.class).withLabel(WellKnownLabels.NODEPOOL, pool).inform(
        Caches.handler(c -> {
          if (c.getMetadata().getName().equals(old)) {
            oldDeleted.compareAndSet(false, c.getMetadata().getDeletionTimestamp() != null);
          } else {
            made.add(c.getMetadata().getName());
          }
        }, (c, unknown) -> gone.add(c.getMetadata().getName())))) {
      try (Refusal refusal = Refusal.ofClaimsAbove(client, "2Gi")) {
        disallow(client, pool, ",\"m5.xlarge\"");
        Expect.condition(client, old, ConditionTypes.DRIFTED, Condition.Status.True, "RequirementsDrifted");
        await().atMost(Expect.TIMEOUT).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> assertThat(gone)
            .as("replacements made and deleted again by abandoned attempts").hasSizeGreaterThanOrEqualTo(2));
        assertThat(Expect.event(client, "default", pool, "FailedCreatingNodeClaim").getMessage()).contains(Refusal.MESSAGE);
        assertThat(oldDeleted).as("the drifted claim deleted with half its replacements").isFalse();
        assertThat(client.pods().inNamespace(ns.name()).list().getItems()).hasSize(2)
            .allSatisfy(p -> assertThat(p.getMetadata().getDeletionTimestamp()).isNull());
      }

      // Refusal lifted: the kubelet of each replacement launched from now on joins, until the drifted claim is deleted (an attempt
      // under way as the refusal was lifted may still make and delete a claim: its node may join in vain).
      Set<String> joined = ConcurrentHashMap.newKeySet();
      await().atMost(Expect.TIMEOUT).pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(() -> {
        for (NodeClaim c : ConsolidationApiTest.claims(client, pool)) {
          String name = c.getMetadata().getName();
          if (!name.equals(old) && c.getMetadata().getDeletionTimestamp() == null && c.getStatus() != null && c.getStatus().providerID() != null
              && !joined.contains(name)) {
            Kubelet.ready(client, Kubelet.register(client, c).getMetadata().getName());
            joined.add(name);
          }
        }
        return client.resources(NodeClaim.class).withName(old).get().getMetadata().getDeletionTimestamp() != null;
      });
      List<String> replacements = live(client, pool, old);
      assertThat(replacements).as("no claim of a refused attempt left").hasSize(2)
          .allSatisfy(name -> Expect.condition(client, name, ConditionTypes.INITIALIZED, Condition.Status.True, null));
      Expect.eventually("an instance for each claim and no other", () -> dovetail.cloud().list().toCompletableFuture().join().stream()
          .map(Instance::nodeClaim).collect(Collectors.toSet()), names -> names.equals(claimNames(client, pool)));
      assertThat(made).as("attempts were made while refused").hasSizeGreaterThan(2);
    }
  }

  /** The pool's claims other than {@code old} that are not being deleted. */
  private static List<String> live(KubernetesClient client, String pool, String old) {
    return ConsolidationApiTest.claims(client, pool).stream().filter(c -> c.getMetadata().getDeletionTimestamp() == null)
        .map(c -> c.getMetadata().getName()).filter(n -> !n.equals(old)).toList();
  }

  private static Set<String> claimNames(KubernetesClient client, String pool) {
    return ConsolidationApiTest.claims(client, pool).stream().map(c -> c.getMetadata().getName()).collect(Collectors.toSet());
  }

  /** Takes {@code fragment} (an instance type with its comma) out of the pool's requirements as JSON. */
  private static void disallow(KubernetesClient client, String pool, String fragment) {
    NodePool current = client.resources(NodePool.class).withName(pool).get();
    String requirements = client.getKubernetesSerialization().asJson(current.getSpec().template().spec().requirements());
    assertThat(requirements).contains(fragment);
    client.resources(NodePool.class).withName(pool).patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"spec\":{\"template\":{\"spec\":{\"requirements\":" + requirements.replace(fragment, "") + "}}}}");
  }

  /** A ValidatingAdmissionPolicy (and its binding) that refuses to create NodeClaims asking for more memory than a limit; closing removes it. */
  private record Refusal(KubernetesClient client) implements AutoCloseable {
    static final String NAME = "dovetail-test-refuse-big-claims";
    static final String MESSAGE = "this test refuses NodeClaims asking for more memory";

    static Refusal ofClaimsAbove(KubernetesClient client, String memory) {
      client.resource("""
          apiVersion: admissionregistration.k8s.io/v1
          kind: ValidatingAdmissionPolicy
          metadata:
            name: %s
          spec:
            failurePolicy: Fail
            matchConstraints:
              resourceRules:
              - apiGroups: ["karpenter.sh"]
                apiVersions: ["v1"]
                operations: ["CREATE"]
                resources: ["nodeclaims"]
            validations:
            - expression: "!has(object.spec.resources) || !has(object.spec.resources.requests) || !('memory' in object.spec.resources.requests) || quantity(string(object.spec.resources.requests['memory'])).compareTo(quantity('%s')) <= 0"
              message: "%s"
          """.formatted(NAME, memory, MESSAGE)).create();
      client.resource("""
          apiVersion: admissionregistration.k8s.io/v1
          kind: ValidatingAdmissionPolicyBinding
          metadata:
            name: %s
          spec:
            policyName: %s
            validationActions: ["Deny"]
          """.formatted(NAME, NAME)).create();
      // The policy is in force once a dry run of a claim above the limit is turned away.
      await().atMost(Expect.TIMEOUT).pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(() -> refused(client));
      return new Refusal(client);
    }

    /** Whether a dry run of a claim far above the limit is turned away by the policy (another refusal is thrown). */
    private static boolean refused(KubernetesClient client) {
      try {
        client.resource(NodeClaims.nodeClaim(c -> c.nodeClass("probe"), c -> c.nodePool("probe"), c -> c.requests("1", "64Gi"))).dryRun().create();
        return false;
      } catch (KubernetesClientException e) {
        if (e.getMessage().contains(MESSAGE)) {
          return true;
        }
        throw e;
      }
    }

    @Override
    public void close() {
      client.genericKubernetesResources("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding").withName(NAME).delete();
      client.genericKubernetesResources("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy").withName(NAME).delete();
      await().atMost(Expect.TIMEOUT).pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(() -> !refused(client));
    }
  }
}
