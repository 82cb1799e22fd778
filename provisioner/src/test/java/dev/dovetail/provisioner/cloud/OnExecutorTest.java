package dev.dovetail.provisioner.cloud;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.aws.v1.EC2NodeClassStatus;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.scheduling.InstanceOption;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class OnExecutorTest {
  private final ExecutorService sdk = Executors.newSingleThreadExecutor(r -> new Thread(r, "sdk-event-loop"));
  private final ExecutorService ours = Executors.newSingleThreadExecutor(r -> new Thread(r, "provisioner-io"));

  @AfterEach
  void stop() {
    sdk.shutdownNow();
    ours.shutdownNow();
  }

  /** A cloud whose answers complete on its own thread, as the AWS SDK's do, successes and failures alike. */
  private CloudProvider cloud(boolean fail) {
    return new CloudProvider() {
      private <T> CompletionStage<T> later(T value) {
        return CompletableFuture.supplyAsync(() -> {
          if (fail) {
            throw new CloudProviderException.NotFound("gone");
          }
          return value;
        }, CompletableFuture.delayedExecutor(50, TimeUnit.MILLISECONDS, sdk));
      }

      @Override
      public String name() {
        return "slow";
      }

      @Override
      public CompletionStage<EC2NodeClassStatus> resolve(EC2NodeClass nodeClass) {
        return later(null);
      }

      @Override
      public CompletionStage<List<InstanceOption>> instanceOptions(EC2NodeClass nodeClass) {
        return later(List.of());
      }

      @Override
      public CompletionStage<Instance> create(NodeClaim claim, EC2NodeClass nodeClass) {
        return later(null);
      }

      @Override
      public CompletionStage<Void> delete(NodeClaim claim) {
        return later(null);
      }

      @Override
      public CompletionStage<Instance> get(String providerId) {
        return later(null);
      }

      @Override
      public CompletionStage<List<Instance>> list() {
        return later(List.of());
      }

      @Override
      public void markUnavailable(String instanceType, String zone, String capacityType) {
      }
    };
  }

  @Test
  void whatACallerChainsOnAnAnswerRunsOnTheProvisionersExecutorForSuccessesAndFailures() throws Exception {
    for (boolean fail : List.of(false, true)) {
      CloudProvider cloud = new OnExecutor(cloud(fail), ours);
      List<CompletionStage<String>> threads = List.of(
          cloud.get("aws:///us-east-1a/i-1").handle((v, e) -> Thread.currentThread().getName()),
          cloud.delete(new NodeClaim()).handle((v, e) -> Thread.currentThread().getName()),
          cloud.list().handle((v, e) -> Thread.currentThread().getName()),
          cloud.create(new NodeClaim(), new EC2NodeClass()).handle((v, e) -> Thread.currentThread().getName()),
          cloud.resolve(new EC2NodeClass()).handle((v, e) -> Thread.currentThread().getName()));
      for (CompletionStage<String> t : threads) {
        assertThat(t.toCompletableFuture().get(5, TimeUnit.SECONDS)).as("failing: %s", fail).isEqualTo("provisioner-io");
      }
    }
  }
}
