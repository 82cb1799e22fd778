package dev.dovetail.provisioner.cloud;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.aws.v1.EC2NodeClassStatus;
import dev.dovetail.api.config.v1alpha1.ReservedInstance;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.scheduling.InstanceOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * A cloud provider whose answers complete on the provisioner's executor rather than on the cloud's own
 * threads (the AWS SDK's Netty event loop): whatever a caller chains on an answer — API writes, events,
 * metrics — runs there, failures included, so no caller can block or write from an SDK thread by
 * forgetting an {@code ...Async} variant.
 */
public final class OnExecutor implements CloudProvider {
  private final CloudProvider cloud;
  private final Executor executor;

  public OnExecutor(CloudProvider cloud, Executor executor) {
    this.cloud = cloud;
    this.executor = executor;
  }

  /** The same outcome, completed on the executor (whenCompleteAsync hops for failures too, unlike thenApplyAsync). */
  private <T> CompletionStage<T> hop(CompletionStage<T> answer) {
    return answer.toCompletableFuture().whenCompleteAsync((value, error) -> { }, executor);
  }

  @Override
  public String name() {
    return cloud.name();
  }

  @Override
  public CompletionStage<EC2NodeClassStatus> resolve(EC2NodeClass nodeClass) {
    return hop(cloud.resolve(nodeClass));
  }

  @Override
  public CompletionStage<List<InstanceOption>> instanceOptions(EC2NodeClass nodeClass) {
    CompletionStage<List<InstanceOption>> options = cloud.instanceOptions(nodeClass);
    // Usually answered from memory at once: no hop for what is already done.
    return options.toCompletableFuture().isDone() ? options : hop(options);
  }

  @Override
  public CompletionStage<Instance> create(NodeClaim claim, EC2NodeClass nodeClass) {
    return hop(cloud.create(claim, nodeClass));
  }

  @Override
  public CompletionStage<Void> delete(NodeClaim claim) {
    return hop(cloud.delete(claim));
  }

  @Override
  public CompletionStage<Instance> get(String providerId) {
    return hop(cloud.get(providerId));
  }

  @Override
  public CompletionStage<List<Instance>> list() {
    return hop(cloud.list());
  }

  @Override
  public void markUnavailable(String instanceType, String zone, String capacityType) {
    cloud.markUnavailable(instanceType, zone, capacityType);
  }

  @Override
  public CompletionStage<Void> cleanUp(EC2NodeClass nodeClass) {
    return hop(cloud.cleanUp(nodeClass));
  }

  @Override
  public CompletionStage<Void> collectGarbage() {
    return hop(cloud.collectGarbage());
  }

  @Override
  public Optional<String> drifted(NodeClaim claim, EC2NodeClass nodeClass) {
    return cloud.drifted(claim, nodeClass);
  }

  @Override
  public List<ReservedInstance> reservedInstances() {
    return cloud.reservedInstances();
  }

  @Override
  public List<ReservedInstanceUse> reservedInstanceUse() {
    return cloud.reservedInstanceUse();
  }

  @Override
  public List<SavingsPlanUse> savingsPlans() {
    return cloud.savingsPlans();
  }

  @Override
  public boolean readsAccountCommitments() {
    return cloud.readsAccountCommitments();
  }
}
