package dev.dovetail.provisioner.cloud;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.aws.v1.EC2NodeClassStatus;
import dev.dovetail.api.config.v1alpha1.ReservedInstance;
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

  /**
   * The Reserved Instances the provider launches committed on-demand capacity under (F12), while the
   * commitment integration is on: the simulated account's from the ClusterOrchestratorConfig, or those
   * the AWS provider read from the account. None by default.
   */
  default List<ReservedInstance> reservedInstances() {
    return List.of();
  }

  /**
   * The Reserved Instances with their use now as the provider's own coverage counts it (purchases of one type and
   * zone together), when it {@linkplain #readsAccountCommitments reads the account's commitments}; a provider that
   * does not leaves their use to be counted from the cluster's nodes. None by default.
   */
  default List<ReservedInstanceUse> reservedInstanceUse() {
    return List.of();
  }

  /**
   * Reserved Instances of one type (in one zone, or regional) and how much of them is in use.
   *
   * @param availabilityZone the zone of zonal ones, else null
   * @param count            instances reserved
   * @param inUse            instances of the type in use (a fraction when a regional RI covers other sizes of its family)
   */
  record ReservedInstanceUse(String instanceType, String availabilityZone, int count, double inUse) {
  }

  /** The Savings Plans the provider launches committed on-demand capacity under, with their use now. None by default. */
  default List<SavingsPlanUse> savingsPlans() {
    return List.of();
  }

  /** Whether the provider reads the cloud account's commitments itself (rather than the config's list of Reserved Instances). */
  default boolean readsAccountCommitments() {
    return false;
  }

  /**
   * A Savings Plan and how much of it this cluster's on-demand instances use.
   *
   * @param type       {@code Compute} or {@code EC2Instance}
   * @param family     the instance family of an EC2 Instance plan, else null
   * @param commitment the plan's hourly commitment, $/h
   * @param inUse      the plan rates of this cluster's on-demand instances it covers, $/h (at most the commitment)
   */
  record SavingsPlanUse(String id, String type, String family, double commitment, double inUse) {
  }
}
