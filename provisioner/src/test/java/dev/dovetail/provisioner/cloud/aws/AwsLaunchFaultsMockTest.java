package dev.dovetail.provisioner.cloud.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.dovetail.api.aws.v1.AmiSelectorTerm;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeClaimSpec;
import dev.dovetail.api.karpenter.v1.NodeClassReference;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.ResourceRequirements;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.cloud.CloudProviderException;
import dev.dovetail.provisioner.cloud.Instance;
import dev.dovetail.provisioner.cloud.UnavailableOfferings;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ec2.model.SpotAllocationStrategy;

/**
 * The launch path under EC2's bad days, against {@link FakeEc2} through the real SDK: pools without
 * capacity (reported per override, with or without a winner), throttling, internal errors, lost
 * answers, slow answers, a launch template deleted behind our back, a restart mid-launch.
 */
class AwsLaunchFaultsMockTest {
  private static FakeEc2 ec2;
  private static AwsClients aws;
  private static EC2NodeClass nodeClass;
  private UnavailableOfferings unavailable;
  private AwsCloudProvider provider;

  @BeforeAll
  static void start() throws Exception {
    ec2 = FakeEc2.start();
    System.setProperty("aws.accessKeyId", "testing");
    System.setProperty("aws.secretAccessKey", "testing");
    aws = new AwsClients(Optional.of("us-east-1"), Optional.of(ec2.endpoint()));
    nodeClass = AwsCloudProviderMockTest.nodeClass("faults", List.of(new AmiSelectorTerm(null, null, "ami-0abc", null, null, null)));
    nodeClass.setStatus(FakeEc2.resolvedStatus(List.of(), List.of()));
  }

  @AfterAll
  static void stop() throws Exception {
    if (aws != null) {
      aws.close();
    }
    if (ec2 != null) {
      ec2.close();
    }
  }

  @BeforeEach
  void freshProvider() {
    ec2.clearFaults();
    ec2.faultsOn("CreateFleet");
    unavailable = new UnavailableOfferings();
    provider = newProvider(unavailable);
  }

  private static AwsCloudProvider newProvider(UnavailableOfferings unavailable) {
    return new AwsCloudProvider(aws, new AwsCloudProvider.Settings("faults", new UserData.Cluster("faults", "https://x", "Q0E=", "10.100.0.0/16"),
        "1.34", SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED), Catalog.bundled(), unavailable, Clock.systemUTC());
  }

  private static NodeClaim claim(String... capacityTypes) {
    NodeClaim c = new NodeClaim();
    String name = "faults-" + UUID.randomUUID().toString().substring(0, 8);
    c.setMetadata(new ObjectMetaBuilder().withName(name).withUid(UUID.randomUUID().toString()).withLabels(Map.of(WellKnownLabels.NODEPOOL, "faults")).build());
    c.setSpec(new NodeClaimSpec(null, null, List.of(NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_TYPE, "m5.large", "m5a.large", "c5.xlarge"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, capacityTypes)),
        new ResourceRequirements(Map.of("cpu", new Quantity("1"))), NodeClassReference.ec2NodeClass("faults"), null, null));
    return c;
  }

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private static int fleetCalls() {
    return ec2.requests("CreateFleet").size();
  }

  @Test
  void aPoolWithoutCapacityIsSkippedInTheSameCallAndRemembered() throws Exception {
    ec2.noCapacity("*", "us-east-1a", "spot");
    int before = fleetCalls();
    Instance i = await(provider.create(claim("spot", "on-demand"), nodeClass));
    assertThat(i.capacityType()).isEqualTo(CapacityType.SPOT);
    assertThat(i.zone()).isEqualTo("us-east-1b");
    assertThat(fleetCalls() - before).isEqualTo(1);
    // The pools that failed are out of the simulation for a while.
    assertThat(unavailable.isUnavailable("m5.large", "us-east-1a", CapacityType.SPOT)).isTrue();
    assertThat(unavailable.isUnavailable("m5.large", "us-east-1b", CapacityType.SPOT)).isFalse();
  }

  @Test
  void noSpotCapacityAnywhereFallsBackToOnDemandOnTheSecondCall() throws Exception {
    ec2.noCapacity("*", "*", "spot");
    int before = fleetCalls();
    Instance i = await(provider.create(claim("spot", "on-demand"), nodeClass));
    assertThat(i.capacityType()).isEqualTo(CapacityType.ON_DEMAND);
    assertThat(fleetCalls() - before).isEqualTo(2);
    var second = ec2.requests("CreateFleet").get(ec2.requests("CreateFleet").size() - 1);
    assertThat(second.get("TargetCapacitySpecification.DefaultTargetCapacityType")).isEqualTo("on-demand");
    // A new client token for the changed request: EC2 would refuse a reused one with other parameters.
    assertThat(second.get("ClientToken")).endsWith("-2");
  }

  @Test
  void noCapacityAtAllIsInsufficientCapacityAfterTwoCalls() throws Exception {
    ec2.noCapacity("*", "*", "*");
    int before = fleetCalls();
    Throwable error = catchThrowable(() -> await(provider.create(claim("spot", "on-demand"), nodeClass)));
    assertThat(error).isInstanceOf(ExecutionException.class).hasCauseInstanceOf(CloudProviderException.InsufficientCapacity.class);
    assertThat(error.getCause().getMessage()).contains("InsufficientInstanceCapacity");
    assertThat(fleetCalls() - before).isEqualTo(2);
  }

  @Test
  void throttlingAndInternalErrorsAreRetriedIntoOneInstance() throws Exception {
    ec2.throttleNext(2);
    NodeClaim throttled = claim("on-demand");
    await(provider.create(throttled, nodeClass));
    assertThat(ec2.liveFor(throttled.getMetadata().getName())).hasSize(1);
    ec2.failNext(2);
    NodeClaim failing = claim("on-demand");
    await(provider.create(failing, nodeClass));
    assertThat(ec2.liveFor(failing.getMetadata().getName())).hasSize(1);
  }

  @Test
  void aLostAnswerIsRetriedWithTheSameTokenAndLaunchesOnce() throws Exception {
    ec2.dropAnswerNext(1);
    NodeClaim claim = claim("on-demand");
    int before = fleetCalls();
    Instance i = await(provider.create(claim, nodeClass));
    assertThat(fleetCalls() - before).isEqualTo(2);
    List<java.util.Map<String, String>> calls = ec2.requests("CreateFleet");
    assertThat(calls.get(calls.size() - 1).get("ClientToken")).isEqualTo(calls.get(calls.size() - 2).get("ClientToken"));
    assertThat(ec2.liveFor(claim.getMetadata().getName())).singleElement().satisfies(f -> assertThat(f.id()).isEqualTo(i.instanceId()));
  }

  @Test
  void aResetConnectionAndASlowAnswerStillLaunch() throws Exception {
    ec2.resetNext(1);
    NodeClaim reset = claim("on-demand");
    await(provider.create(reset, nodeClass));
    assertThat(ec2.liveFor(reset.getMetadata().getName())).hasSize(1);
    ec2.delay(Duration.ofSeconds(2));
    NodeClaim slow = claim("on-demand");
    await(provider.create(slow, nodeClass));
    assertThat(ec2.liveFor(slow.getMetadata().getName())).hasSize(1);
  }

  @Test
  void aRestartedProvisionerFindsTheInstanceInsteadOfLaunchingAgain() throws Exception {
    NodeClaim claim = claim("spot", "on-demand");
    Instance first = await(provider.create(claim, nodeClass));
    int before = fleetCalls();
    AwsCloudProvider restarted = newProvider(new UnavailableOfferings());
    assertThat(await(restarted.create(claim, nodeClass)).providerId()).isEqualTo(first.providerId());
    assertThat(fleetCalls()).isEqualTo(before);
    assertThat(ec2.liveFor(claim.getMetadata().getName())).hasSize(1);
  }

  @Test
  void aDeletedLaunchTemplateIsCreatedAgain() throws Exception {
    await(provider.create(claim("on-demand"), nodeClass));
    ec2.forgetTemplates();
    int templatesBefore = ec2.requests("CreateLaunchTemplate").size();
    NodeClaim claim = claim("on-demand");
    await(provider.create(claim, nodeClass));
    assertThat(ec2.requests("CreateLaunchTemplate").size()).isEqualTo(templatesBefore + 1);
    assertThat(ec2.liveFor(claim.getMetadata().getName())).hasSize(1);
  }
}
