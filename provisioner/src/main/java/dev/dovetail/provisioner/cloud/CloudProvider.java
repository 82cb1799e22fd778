package dev.dovetail.provisioner.cloud;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.aws.v1.EC2NodeClassStatus;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.scheduling.InstanceOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * What the provisioner asks of a cloud. Every call is asynchronous and must not block the caller.
 * Contracts, as Karpenter's: {@code create} is idempotent per NodeClaim (a retry or a restart returns
 * the instance already launched for it, never a second one); {@code get} and {@code delete} fail with
 * {@link CloudProviderException.NotFound} once the instance is gone; {@code instanceOptions} lists every
 * type the node class can launch, with unavailable offerings marked rather than left out.
 */
public interface CloudProvider {
  /** A short name for logs and metrics ({@code sim}, {@code aws}). */
  String name();

  /** What the node class's selectors resolve to (subnets and their zones, security groups, AMIs) and its conditions. */
  CompletionStage<EC2NodeClassStatus> resolve(EC2NodeClass nodeClass);

  /** Instance types the node class can launch, each with its offerings (zones from the resolved subnets). */
  CompletionStage<List<InstanceOption>> instanceOptions(EC2NodeClass nodeClass);

  /** Launches the cheapest available offering the claim's requirements and requests allow. */
  CompletionStage<Instance> create(NodeClaim claim, EC2NodeClass nodeClass);

  /** Terminates the claim's instance; NotFound once it is gone. */
  CompletionStage<Void> delete(NodeClaim claim);

  CompletionStage<Instance> get(String providerId);

  /** Every instance this cluster launched that still exists. */
  CompletionStage<List<Instance>> list();

  /** Marks an offering unavailable for a while (after an interruption or a capacity error). */
  void markUnavailable(String instanceType, String zone, String capacityType);

  /**
   * The node class is being deleted and no NodeClaim uses it any more: remove what the cloud keeps for
   * it (launch templates, an instance profile made for its role). Completes when done; failures are retried.
   */
  default CompletionStage<Void> cleanUp(EC2NodeClass nodeClass) {
    return CompletableFuture.completedFuture(null);
  }

  /**
   * Removes what the cloud keeps that nothing uses any more (launch templates of changed classes, say);
   * run with the instance garbage collection. A thing removed too eagerly is simply made again.
   */
  default CompletionStage<Void> collectGarbage() {
    return CompletableFuture.completedFuture(null);
  }

  /** Why a launched claim's node class no longer matches (drift), if it does not. */
  default Optional<String> drifted(NodeClaim claim, EC2NodeClass nodeClass) {
    return Optional.empty();
  }
}
