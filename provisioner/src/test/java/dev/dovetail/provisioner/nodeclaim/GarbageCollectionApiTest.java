package dev.dovetail.provisioner.nodeclaim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.provisioner.cloud.Instance;
import dev.dovetail.provisioner.cloud.ProviderId;
import dev.dovetail.provisioner.cloud.sim.SimCloudProvider;
import dev.dovetail.provisioner.kube.Writer;
import dev.dovetail.provisioner.testing.Expect;
import dev.dovetail.provisioner.testing.Names;
import dev.dovetail.provisioner.testing.NodeClaims;
import dev.dovetail.provisioner.testing.NodeClasses;
import dev.dovetail.provisioner.testing.Nodes;
import dev.dovetail.provisioner.testing.TestOperator;
import dev.dovetail.testkit.WithApiServer;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Garbage collection of instances no NodeClaim owns, on a real API server with the simulated cloud: the
 * pass runs on the provisioner's caches and cloud, at instants the test chooses (a clock of its own), so
 * "after the grace, not before" is checked to the second rather than by waiting minutes.
 */
@WithApiServer
class GarbageCollectionApiTest {
  private static final Duration GRACE = Duration.ofMinutes(5);

  @RegisterExtension
  final TestOperator.PerTest operator = new TestOperator.PerTest();
  private TestOperator provisioner;

  @Test
  void anInstanceNoClaimOwnsIsTerminatedOnceTheGraceHasPassedAndOwnedOnesAreKept(KubernetesClient client) {
    provisioner = operator.start(client);
    EC2NodeClass nodeClass = Expect.readyNodeClass(client, NodeClasses.nodeClass());
    NodeClaim owner = client.resource(NodeClaims.nodeClaim(c -> c.nodeClass(nodeClass.getMetadata().getName()))).create();
    String ownedId = Expect.launched(client, owner.getMetadata().getName()).getStatus().providerID();
    // A launch whose claim was deleted while the call was in flight: the instance exists, no claim names it.
    NodeClaim neverCreated = NodeClaims.nodeClaim(c -> c.nodeClass(nodeClass.getMetadata().getName()));
    EC2NodeClass cached = Expect.eventually("node class in the cache", () -> provisioner.caches().nodeClass(nodeClass.getMetadata().getName()),
        c -> c.isPresent() && c.get().getStatus() != null).orElseThrow();
    Instance orphan = provisioner.cloud().create(neverCreated, cached).toCompletableFuture().join();

    List<Instance> early = collectAt(client, orphan.launchedAt().plus(GRACE).minusSeconds(1));
    assertThat(early).as("within the grace").isEmpty();
    assertThat(ids(provisioner.cloud().list().toCompletableFuture().join())).contains(orphan.providerId(), ownedId);

    List<Instance> late = collectAt(client, orphan.launchedAt().plus(GRACE).plusSeconds(1));
    assertThat(ids(late)).containsExactly(orphan.providerId());
    assertThat(ids(provisioner.cloud().list().toCompletableFuture().join())).doesNotContain(orphan.providerId()).contains(ownedId);
    assertThat(client.resources(NodeClaim.class).withName(owner.getMetadata().getName()).get().getMetadata().getDeletionTimestamp()).isNull();
  }

  @Test
  void anOrphanRecordedOnANodeIsTerminatedAndItsNodeDeleted(KubernetesClient client) {
    provisioner = operator.start(client);
    // An instance an earlier provisioner launched for a claim that no longer exists: the simulated cloud's record is its Node.
    String providerId = new ProviderId("us-east-1a", Names.unique("i")).toString();
    Node node = client.nodes().resource(Nodes.node(Nodes.providerId(providerId),
        Nodes.annotation(SimCloudProvider.NODECLAIM_ANNOTATION, Names.unique("deleted-claim")))).create();
    Instant created = Instant.parse(node.getMetadata().getCreationTimestamp());
    Expect.eventually("node in the cache", () -> provisioner.caches().nodeByProviderId(providerId), o -> o.isPresent());

    assertThat(collectAt(client, created.plus(GRACE).minusSeconds(1))).isEmpty();
    assertThat(client.nodes().withName(node.getMetadata().getName()).get()).isNotNull();

    assertThat(ids(collectAt(client, created.plus(GRACE).plusSeconds(1)))).containsExactly(providerId);
    Expect.gone(client, Node.class, node.getMetadata().getName());
  }

  /** One garbage-collection pass as the provisioner's leader runs it, at {@code now}. */
  private List<Instance> collectAt(KubernetesClient client, Instant now) {
    return new GarbageCollection(provisioner.caches()::nodeClaims, provisioner.caches()::nodeByProviderId, new Writer(client), provisioner.cloud(), Clock.fixed(now, ZoneOffset.UTC), GRACE,
        provisioner.registry()).collect().toCompletableFuture().join();
  }

  private static List<String> ids(List<Instance> instances) {
    return instances.stream().map(Instance::providerId).toList();
  }
}
