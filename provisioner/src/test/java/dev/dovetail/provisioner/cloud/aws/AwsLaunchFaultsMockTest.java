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
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.services.ec2.model.SpotAllocationStrategy;

/**
 * The launch path under EC2's bad days, against {@link FakeEc2} through the real SDK: pools without
 * capacity (reported per override, with or without a winner), throttling, internal errors, lost
 * answers, slow answers, a launch template deleted behind our back, a restart mid-launch. Each test
 * reads the fake's call log to see that its fault fired as set and what the provider did next: a
 * transport fault retried under the same client token, a capacity fault answered by another pool or a
 * second call for the claim.
 */
class AwsLaunchFaultsMockTest {
  @RegisterExtension
  static final FakeAccount ACCOUNT = new FakeAccount();
  private static FakeEc2 ec2;
  private static AwsClients aws;
  private static EC2NodeClass nodeClass;
  private UnavailableOfferings unavailable;
  private AwsCloudProvider provider;

  @BeforeAll
  static void start() {
    ec2 = ACCOUNT.ec2();
    aws = ACCOUNT.aws();
    nodeClass = AwsCloudProviderMockTest.nodeClass("faults", List.of(new AmiSelectorTerm(null, null, "ami-0abc", null, null, null)));
    nodeClass.setStatus(FakeEc2.resolvedStatus(List.of(), List.of()));
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

  /** The CreateFleet calls the fake logged for a claim, in the order they came. */
  private static List<FakeEc2.Call> fleetCallsFor(NodeClaim claim) {
    return ec2.calls("CreateFleet").stream().filter(c -> claim.getMetadata().getName().equals(c.claim())).toList();
  }

  /**
   * Every shot of {@code fault} set for the claim fired ({@code shots} of its CreateFleet calls got it, none is left)
   * and each was retried: a later call with the same client token was answered, and it is the one that launched
   * {@code launched}; that instance is the claim's only one.
   */
  private static void assertFiredAndRetried(NodeClaim claim, FakeEc2.Fault fault, int shots, Instance launched) {
    List<FakeEc2.Call> calls = fleetCallsFor(claim);
    List<FakeEc2.Call> faulted = calls.stream().filter(c -> c.fault() == fault).toList();
    assertThat(faulted).as("CreateFleet calls that got %s: %s", fault, calls).hasSize(shots);
    assertThat(ec2.faultsNotFired()).as("fault shots left").isZero();
    for (FakeEc2.Call f : faulted) {
      assertThat(ec2.retriesOf(f)).as("a retry of %s", f).singleElement().satisfies(retry -> {
        assertThat(retry.clientToken()).isEqualTo(f.clientToken());
        assertThat(retry.launched()).containsExactly(launched.instanceId());
      });
    }
    assertThat(calls).as("one client token for all of them: only transport faults, no new launch").extracting(FakeEc2.Call::clientToken)
        .containsOnly(claim.getMetadata().getUid() + "-1");
    assertThat(ec2.liveFor(claim.getMetadata().getName())).singleElement().satisfies(i -> assertThat(i.id()).isEqualTo(launched.instanceId()));
  }

  @Test
  void aPoolWithoutCapacityIsSkippedInTheSameCallAndRemembered() throws Exception {
    ec2.noCapacity("*", "us-east-1a", "spot");
    int before = fleetCalls();
    NodeClaim claim = claim("spot", "on-demand");
    Instance i = await(provider.create(claim, nodeClass));
    assertThat(i.capacityType()).isEqualTo(CapacityType.SPOT);
    assertThat(i.zone()).isEqualTo("us-east-1b");
    assertThat(fleetCalls() - before).isEqualTo(1);
    // The fault fired: the one call reported pools of us-east-1a without spot capacity, and launched in another pool.
    assertThat(fleetCallsFor(claim)).singleElement().satisfies(c -> {
      assertThat(c.poolErrors()).isNotEmpty().allSatisfy(e -> assertThat(e).contains("/us-east-1a/spot: InsufficientInstanceCapacity"));
      assertThat(c.launched()).containsExactly(i.instanceId());
    });
    // The pools that failed are out of the simulation for a while.
    assertThat(unavailable.isUnavailable("m5.large", "us-east-1a", CapacityType.SPOT)).isTrue();
    assertThat(unavailable.isUnavailable("m5.large", "us-east-1b", CapacityType.SPOT)).isFalse();
  }

  @Test
  void noSpotCapacityAnywhereFallsBackToOnDemandOnTheSecondCall() throws Exception {
    ec2.noCapacity("*", "*", "spot");
    int before = fleetCalls();
    NodeClaim claim = claim("spot", "on-demand");
    Instance i = await(provider.create(claim, nodeClass));
    assertThat(i.capacityType()).isEqualTo(CapacityType.ON_DEMAND);
    assertThat(fleetCalls() - before).isEqualTo(2);
    // The fault fired on the first call (every spot pool failed, nothing launched); the second, for the same claim, launched.
    List<FakeEc2.Call> calls = fleetCallsFor(claim);
    assertThat(calls).hasSize(2);
    assertThat(calls.get(0).poolErrors()).isNotEmpty().allSatisfy(e -> assertThat(e).contains("/spot: InsufficientInstanceCapacity"));
    assertThat(calls.get(0).launched()).isEmpty();
    assertThat(calls.get(1).poolErrors()).isEmpty();
    assertThat(calls.get(1).launched()).containsExactly(i.instanceId());
    var second = ec2.requests("CreateFleet").get(ec2.requests("CreateFleet").size() - 1);
    assertThat(second.get("TargetCapacitySpecification.DefaultTargetCapacityType")).isEqualTo("on-demand");
    // A new client token for the changed request: EC2 would refuse a reused one with other parameters.
    assertThat(second.get("ClientToken")).endsWith("-2");
  }

  @Test
  void noCapacityAtAllIsInsufficientCapacityAfterTwoCalls() throws Exception {
    ec2.noCapacity("*", "*", "*");
    int before = fleetCalls();
    NodeClaim claim = claim("spot", "on-demand");
    Throwable error = catchThrowable(() -> await(provider.create(claim, nodeClass)));
    assertThat(error).isInstanceOf(ExecutionException.class).hasCauseInstanceOf(CloudProviderException.InsufficientCapacity.class);
    assertThat(error.getCause().getMessage()).contains("InsufficientInstanceCapacity");
    assertThat(fleetCalls() - before).isEqualTo(2);
    // Both calls for the claim (the second without the pools the first reported, under a new token) met the fault.
    assertThat(fleetCallsFor(claim)).hasSize(2).allSatisfy(c -> {
      assertThat(c.poolErrors()).isNotEmpty().allSatisfy(e -> assertThat(e).endsWith(": InsufficientInstanceCapacity"));
      assertThat(c.launched()).isEmpty();
    }).extracting(FakeEc2.Call::clientToken).containsExactly(claim.getMetadata().getUid() + "-1", claim.getMetadata().getUid() + "-2");
  }

  @Test
  void throttlingAndInternalErrorsAreRetriedIntoOneInstance() throws Exception {
    ec2.throttleNext(2);
    NodeClaim throttled = claim("on-demand");
    Instance first = await(provider.create(throttled, nodeClass));
    assertFiredAndRetried(throttled, FakeEc2.Fault.THROTTLED, 2, first);
    ec2.failNext(2);
    NodeClaim failing = claim("on-demand");
    Instance second = await(provider.create(failing, nodeClass));
    assertFiredAndRetried(failing, FakeEc2.Fault.INTERNAL_ERROR, 2, second);
  }

  @Test
  void aLostAnswerIsRetriedWithTheSameTokenAndLaunchesOnce() throws Exception {
    ec2.dropAnswerNext(1);
    NodeClaim claim = claim("on-demand");
    int before = fleetCalls();
    Instance i = await(provider.create(claim, nodeClass));
    assertThat(fleetCalls() - before).isEqualTo(2);
    // The first call launched and its answer was lost; the retry carried the same token and got that instance back.
    List<FakeEc2.Call> calls = fleetCallsFor(claim);
    assertThat(calls).hasSize(2);
    assertThat(calls.get(0).fault()).isEqualTo(FakeEc2.Fault.ANSWER_LOST);
    assertThat(calls.get(0).launched()).containsExactly(i.instanceId());
    assertThat(calls.get(1).clientToken()).isEqualTo(calls.get(0).clientToken());
    assertThat(calls.get(1).replayed()).as("answered from the token, not launched again").isTrue();
    assertThat(calls.get(1).succeeded()).isTrue();
    assertThat(ec2.faultsNotFired()).isZero();
    assertThat(ec2.liveFor(claim.getMetadata().getName())).singleElement().satisfies(f -> assertThat(f.id()).isEqualTo(i.instanceId()));
  }

  @Test
  void aResetConnectionAndASlowAnswerStillLaunch() throws Exception {
    ec2.resetNext(1);
    NodeClaim reset = claim("on-demand");
    Instance afterReset = await(provider.create(reset, nodeClass));
    assertFiredAndRetried(reset, FakeEc2.Fault.CONNECTION_RESET, 1, afterReset);
    Duration late = Duration.ofSeconds(2);
    ec2.delay(late);
    NodeClaim slow = claim("on-demand");
    Instance afterWait = await(provider.create(slow, nodeClass));
    // The slow answer was slow (the fake waited before launching) and it was the one that launched: no retry, no timeout.
    assertThat(fleetCallsFor(slow)).singleElement().satisfies(c -> {
      assertThat(c.delayed()).isEqualTo(late);
      assertThat(Duration.between(c.received(), c.done())).isGreaterThanOrEqualTo(late);
      assertThat(c.launched()).containsExactly(afterWait.instanceId());
    });
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
    Instance i = await(provider.create(claim, nodeClass));
    assertThat(ec2.requests("CreateLaunchTemplate").size()).isEqualTo(templatesBefore + 1);
    // The first call met the missing template; after the template was made again, the next call for the claim launched.
    List<FakeEc2.Call> calls = fleetCallsFor(claim);
    assertThat(calls).hasSize(2);
    assertThat(calls.get(0).errorCode()).isEqualTo("InvalidLaunchTemplateName.NotFoundException");
    assertThat(calls.get(1).succeeded()).isTrue();
    assertThat(calls.get(1).launched()).containsExactly(i.instanceId());
    assertThat(ec2.calls("CreateLaunchTemplate")).filteredOn(c -> c.seq() > calls.get(0).seq() && c.seq() < calls.get(1).seq()).hasSize(1);
    assertThat(ec2.liveFor(claim.getMetadata().getName())).hasSize(1);
  }
}
