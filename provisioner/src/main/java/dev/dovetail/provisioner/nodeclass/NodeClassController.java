package dev.dovetail.provisioner.nodeclass;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.aws.v1.EC2NodeClassStatus;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.drift.Hashes;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.provisioner.cloud.CloudProvider;
import dev.dovetail.provisioner.cluster.Caches;
import dev.dovetail.provisioner.controller.Reconciliation;
import dev.dovetail.provisioner.controller.Result;
import dev.dovetail.provisioner.kube.Writer;
import dev.dovetail.runtime.Recorder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * An EC2NodeClass's status: what its selectors resolve to in the cloud, with the readiness
 * conditions; its drift hash; and its finalizer, which holds deletion until no NodeClaim uses it.
 */
public final class NodeClassController {
  public static final String FINALIZER = "karpenter.k8s.aws/termination";
  static final Duration RESOLVE_EVERY = Duration.ofMinutes(5);

  private final KubernetesClient client;
  private final Caches caches;
  private final CloudProvider cloud;
  private final Recorder events;

  public NodeClassController(KubernetesClient client, Caches caches, CloudProvider cloud, Recorder events) {
    this.client = client;
    this.caches = caches;
    this.cloud = cloud;
    this.events = events;
  }

  public CompletionStage<Result> reconcile(String name, Reconciliation context) {
    Optional<EC2NodeClass> cached = caches.nodeClass(name);
    if (cached.isEmpty()) {
      return Result.done();
    }
    EC2NodeClass nodeClass = cached.get();
    List<String> finalizers = nodeClass.getMetadata().getFinalizers() == null ? List.of() : nodeClass.getMetadata().getFinalizers();
    if (nodeClass.getMetadata().getDeletionTimestamp() != null) {
      List<String> users = caches.nodeClaims().stream()
          .filter(c -> c.getSpec().nodeClassRef() != null && name.equals(c.getSpec().nodeClassRef().name()))
          .map(c -> c.getMetadata().getName()).toList();
      if (!users.isEmpty()) {
        events.warning(nodeClass, "WaitingOnNodeClaimTermination", "Waiting on NodeClaim termination for " + String.join(", ",
            users.subList(0, Math.min(5, users.size()))) + (users.size() > 5 ? ", ..." : ""));
        return Result.requeue(Duration.ofSeconds(10));
      }
      if (!finalizers.contains(FINALIZER)) {
        return Result.done();
      }
      // What the cloud keeps for the class goes before the class does; a failure is retried.
      return cloud.cleanUp(nodeClass).handle((ok, error) -> {
        if (error != null) {
          events.warning(nodeClass, "FailedCleanup", "Removing the class's launch templates or instance profile failed (retrying): " + error);
          return Result.after(Duration.ofSeconds(30));
        }
        List<String> kept = new ArrayList<>(finalizers);
        kept.remove(FINALIZER);
        patch(name, Map.of("finalizers", kept));
        return Result.DONE;
      });
    }
    String hash = Hashes.nodeClass(nodeClass);
    Map<String, String> annotations = nodeClass.getMetadata().getAnnotations() == null ? Map.of() : nodeClass.getMetadata().getAnnotations();
    if (!finalizers.contains(FINALIZER) || !hash.equals(annotations.get(Hashes.NODECLASS_HASH))) {
      List<String> withOurs = new ArrayList<>(finalizers);
      if (!withOurs.contains(FINALIZER)) {
        withOurs.add(FINALIZER);
      }
      patch(name, Map.of("finalizers", withOurs, "annotations", Map.of(Hashes.NODECLASS_HASH, hash, Hashes.NODECLASS_HASH_VERSION,
          Hashes.NODECLASS_HASH_VERSION_VALUE)));
    }
    return cloud.resolve(nodeClass).thenApply(resolved -> {
      EC2NodeClassStatus status = keepTransitionTimes(nodeClass.getStatus(), resolved);
      if (!Objects.equals(nodeClass.getStatus(), status)) {
        new Writer(client).patchStatus(EC2NodeClass.class, name, status);
      }
      return Result.after(RESOLVE_EVERY);
    });
  }

  /** Conditions whose status did not change keep their transition time, so unchanged statuses compare equal. */
  static EC2NodeClassStatus keepTransitionTimes(EC2NodeClassStatus before, EC2NodeClassStatus after) {
    if (before == null || before.conditions() == null || after.conditions() == null) {
      return after;
    }
    List<Condition> merged = new ArrayList<>();
    for (Condition c : after.conditions()) {
      Condition old = before.conditions().stream().filter(o -> o.type().equals(c.type())).findFirst().orElse(null);
      merged.add(old != null && old.status() == c.status() && Objects.equals(old.reason(), c.reason()) && Objects.equals(old.message(), c.message())
          ? old : c);
    }
    return new EC2NodeClassStatus(after.subnets(), after.securityGroups(), after.amis(), after.capacityReservations(), after.instanceProfile(),
        merged);
  }

  private void patch(String name, Map<String, Object> metadata) {
    try {
      client.resources(EC2NodeClass.class).withName(name).patch(PatchContext.of(PatchType.JSON_MERGE),
          new ObjectMapper().writeValueAsString(Map.of("metadata", metadata)));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  static boolean usedBy(NodeClaim claim, String nodeClass) {
    return claim.getSpec().nodeClassRef() != null && nodeClass.equals(claim.getSpec().nodeClassRef().name());
  }
}
