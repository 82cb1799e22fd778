package dev.dovetail.provisioner.nodeclaim;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.aws.v1.EC2NodeClassStatus;
import dev.dovetail.api.drift.Hashes;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.scheduling.Requirement;
import dev.dovetail.api.scheduling.Requirements;
import dev.dovetail.provisioner.cluster.Caches;
import dev.dovetail.provisioner.controller.Reconciliation;
import dev.dovetail.provisioner.kube.Writer;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code Drifted}, as Karpenter keeps it on launched claims: True when the node no longer matches what its
 * NodePool and EC2NodeClass say now, with the first reason found — the pool's template changed
 * ({@code NodePoolDrifted}: the {@code karpenter.sh/nodepool-hash} the claim was made with differs from the
 * pool's), the pool's requirements no longer allow one of the claim's labels ({@code RequirementsDrifted}),
 * the node class changed ({@code NodeClassDrift}: {@code karpenter.k8s.aws/ec2nodeclass-hash}), or the AMI the
 * node runs is not among those the class resolves to now ({@code AMIDrift}). Hashes of another hash
 * version are not compared (Karpenter re-stamps those). The drift method replaces drifted nodes within the
 * {@code Drifted} budgets.
 */
final class DriftDetection implements Step {
  private static final Logger LOG = LoggerFactory.getLogger(DriftDetection.class);

  /** Why a claim drifted: the condition's reason. */
  enum Reason { NodePoolDrifted, RequirementsDrifted, NodeClassDrift, AMIDrift }

  /** A drift found: the reason and what differs. */
  record Drifted(Reason reason, String message) {
  }

  private final Caches caches;
  private final Writer writer;
  private final Clock clock;

  DriftDetection(Caches caches, Writer writer, Clock clock) {
    this.caches = caches;
    this.writer = writer;
    this.clock = clock;
  }

  @Override
  public CompletionStage<Outcome> reconcile(State state, Reconciliation context) {
    NodeClaim claim = state.claim();
    if (!NodeClaims.isTrue(claim, ConditionTypes.LAUNCHED) || NodeClaims.deleting(claim)) {
      return Outcome.next(state);
    }
    Optional<NodePool> pool = caches.nodePool(NodeClaims.pool(claim));
    Optional<EC2NodeClass> nodeClass = Optional.ofNullable(claim.getSpec().nodeClassRef()).flatMap(r -> caches.nodeClass(r.name()));
    Optional<Drifted> drifted = drifted(claim, pool, nodeClass);
    if (drifted.isPresent() && !NodeClaims.isTrue(claim, ConditionTypes.DRIFTED)) {
      context.atInfo(LOG).log("NodeClaim {} drifted ({}): {}", claim.getMetadata().getName(), drifted.get().reason(), drifted.get().message());
    }
    NodeClaim written = NodeClaims.trueOrAbsent(writer, claim, ConditionTypes.DRIFTED,
        drifted.map(d -> new NodeClaims.Why(d.reason().name(), d.message())), clock.instant());
    return Outcome.next(state.withClaim(written));
  }

  /** The first way the claim differs from its pool and class now, if any (nothing when either is gone). */
  static Optional<Drifted> drifted(NodeClaim claim, Optional<NodePool> pool, Optional<EC2NodeClass> nodeClass) {
    if (pool.isEmpty() || pool.get().getSpec() == null) {
      return Optional.empty();
    }
    String version = NodeClaims.annotation(claim, Hashes.NODEPOOL_HASH_VERSION);
    String recorded = NodeClaims.annotation(claim, Hashes.NODEPOOL_HASH);
    if (recorded != null && Hashes.NODEPOOL_HASH_VERSION_VALUE.equals(version) && !recorded.equals(Hashes.nodePool(pool.get()))) {
      return Optional.of(new Drifted(Reason.NodePoolDrifted, "the NodePool's template changed since the NodeClaim was made"));
    }
    Requirements required = Requirements.ofKarpenter(pool.get().getSpec().template().spec().requirements());
    Map<String, String> labels = claim.getMetadata().getLabels() == null ? Map.of() : claim.getMetadata().getLabels();
    for (Requirement r : required.all()) {
      String value = labels.get(r.key());
      if (value != null && !r.allows(value)) {
        return Optional.of(new Drifted(Reason.RequirementsDrifted, "label " + r.key() + "=" + value + " no longer meets the NodePool's requirements"));
      }
    }
    if (nodeClass.isEmpty()) {
      return Optional.empty();
    }
    String classVersion = NodeClaims.annotation(claim, Hashes.NODECLASS_HASH_VERSION);
    String classHash = NodeClaims.annotation(claim, Hashes.NODECLASS_HASH);
    if (classHash != null && Hashes.NODECLASS_HASH_VERSION_VALUE.equals(classVersion) && !classHash.equals(Hashes.nodeClass(nodeClass.get()))) {
      return Optional.of(new Drifted(Reason.NodeClassDrift, "the EC2NodeClass changed since the NodeClaim was made"));
    }
    String image = claim.getStatus() == null ? null : claim.getStatus().imageID();
    List<String> images = nodeClass.get().getStatus() == null || nodeClass.get().getStatus().amis() == null ? List.of()
        : nodeClass.get().getStatus().amis().stream().map(EC2NodeClassStatus.Ami::id).filter(Objects::nonNull).toList();
    if (image != null && !image.isEmpty() && !images.isEmpty() && !images.contains(image)) {
      return Optional.of(new Drifted(Reason.AMIDrift, "the node runs " + image + ", the EC2NodeClass now resolves to "
          + images.stream().distinct().collect(Collectors.joining(", "))));
    }
    return Optional.empty();
  }
}
