package dev.dovetail.provisioner.cloud.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;
import static org.assertj.core.api.Assertions.tuple;

import dev.dovetail.api.aws.v1.AmiSelectorTerm;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.config.v1alpha1.ReservedInstance;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeClaimSpec;
import dev.dovetail.api.karpenter.v1.NodeClassReference;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.ResourceRequirements;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.InstanceOption;
import dev.dovetail.api.scheduling.Offering;
import dev.dovetail.provisioner.cloud.CloudProvider;
import dev.dovetail.provisioner.cloud.Instance;
import dev.dovetail.provisioner.cloud.UnavailableOfferings;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.services.ec2.model.SpotAllocationStrategy;

/**
 * The account's Reserved Instances and Savings Plans through the real SDK against {@link FakeEc2} (moto
 * implements neither DescribeReservedInstances nor Savings Plans): read into committed on-demand
 * offerings while the commitment integration is on, launched first and never beyond what they cover
 * however many launches run at once, and kept when a later read fails.
 */
class CommitmentsMockTest {
  @RegisterExtension
  static final FakeAccount ACCOUNT = new FakeAccount();
  private static FakeEc2 ec2;
  private static AwsClients aws;
  private static EC2NodeClass nodeClass;
  private final AtomicBoolean enabled = new AtomicBoolean(true);
  private String cluster;
  private AwsCloudProvider provider;

  @BeforeAll
  static void start() {
    ec2 = ACCOUNT.ec2();
    aws = ACCOUNT.aws();
    nodeClass = AwsCloudProviderMockTest.nodeClass("commitments", List.of(new AmiSelectorTerm(null, null, "ami-0abc", null, null, null)));
    nodeClass.setStatus(FakeEc2.resolvedStatus(List.of(), List.of()));
  }

  @BeforeEach
  void fresh() {
    ec2.clearFaults();
    ec2.clearCommitments();
    // Commitments count every on-demand instance of the account: each test starts with none.
    ec2.clearInstances();
    // Each test its own cluster: the instances of another test's are not this one's.
    cluster = "commit-" + UUID.randomUUID().toString().substring(0, 6);
    provider = newProvider();
  }

  private AwsCloudProvider newProvider() {
    return new AwsCloudProvider(aws, new AwsCloudProvider.Settings(cluster, new UserData.Cluster(cluster, "https://x", "Q0E=", "10.100.0.0/16"),
        "1.34", SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED), Catalog.bundled(), new UnavailableOfferings(), Clock.systemUTC())
        .commitmentsEnabled(enabled::get);
  }

  private static NodeClaim claim(String... types) {
    NodeClaim c = new NodeClaim();
    c.setMetadata(new ObjectMetaBuilder().withName("commit-" + UUID.randomUUID().toString().substring(0, 8)).withUid(UUID.randomUUID().toString())
        .withLabels(Map.of(WellKnownLabels.NODEPOOL, "commitments")).build());
    c.setSpec(new NodeClaimSpec(null, null, List.of(NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_TYPE, types),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, "on-demand")),
        new ResourceRequirements(Map.of("cpu", new Quantity("1"))), NodeClassReference.ec2NodeClass("commitments"), null, null));
    return c;
  }

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private List<Offering> committed(String type) throws Exception {
    return await(provider.instanceOptions(nodeClass)).stream().filter(o -> o.name().equals(type)).findFirst()
        .map(InstanceOption::offerings).orElse(List.of()).stream().filter(Offering::committed).toList();
  }

  private static long launchedOf(List<Instance> instances, String type) {
    return instances.stream().filter(i -> i.instanceType().equals(type)).count();
  }

  @Test
  void theAccountsCommitmentsBecomeCommittedOnDemandOfferings() throws Exception {
    ec2.reservedInstance("m5.large", "us-east-1a", 2);
    ec2.reservedInstance("c5.xlarge", null, 1);
    // Not ours to use: Windows, retired.
    ec2.reservedInstance("m5a.large", null, 5, "Windows", "default", "active");
    ec2.reservedInstance("m5a.large", null, 5, "Linux/UNIX", "default", "retired");
    ec2.savingsPlan("EC2Instance", "r5", 1.0, Map.of("r5.large", 0.08, "r5.xlarge", 0.16));
    ec2.savingsPlan("Compute", null, 0.5, Map.of("c5.large", 0.055, "m5.xlarge", 0.124, "t3.small", 0.015));
    ec2.savingsPlan("Compute", null, 9.0, Map.of("m6i.large", 0.01), "retired");

    await(provider.refreshCommitments());

    assertThat(provider.reservedInstances()).containsExactlyInAnyOrder(new ReservedInstance("m5.large", "us-east-1a", 2),
        new ReservedInstance("c5.xlarge", null, 1));
    assertThat(provider.savingsPlans()).extracting(CloudProvider.SavingsPlanUse::type, CloudProvider.SavingsPlanUse::family,
        CloudProvider.SavingsPlanUse::commitment, CloudProvider.SavingsPlanUse::inUse)
        .containsExactlyInAnyOrder(tuple("EC2Instance", "r5", 1.0, 0.0),
            tuple("Compute", null, 0.5, 0.0));
    // The calls as AWS wants them: active RIs; active plans; EC2 Linux shared rates in the Region.
    assertThat(ec2.calls("DescribeReservedInstances")).last().satisfies(c -> assertThat(c.filterValues("state")).containsExactly("active"));
    assertThat(ec2.requests("DescribeSavingsPlans")).last().satisfies(r -> assertThat(r.get("Body")).contains("\"states\":[\"active\"]"));
    assertThat(ec2.requests("DescribeSavingsPlanRates")).last().satisfies(r -> assertThat(r.get("Body"))
        .contains("\"productType\"", "\"EC2\"", "\"us-east-1\"", "\"Linux/UNIX\"", "\"shared\""));

    double m5 = Catalog.bundled().get("m5.large").orElseThrow().onDemandPricePerHour();
    // A zonal RI: its zone only (the node class has subnets in us-east-1a and 1b), at a ten-millionth of on-demand.
    assertThat(committed("m5.large")).singleElement().satisfies(o -> {
      assertThat(o.zone()).isEqualTo("us-east-1a");
      assertThat(o.capacityType()).isEqualTo(CapacityType.ON_DEMAND);
      assertThat(o.pricePerHour()).isEqualTo(m5 / CapacityReservations.PRICE_DIVISOR);
    });
    // A regional RI: every zone.
    assertThat(committed("c5.xlarge")).extracting(Offering::zone).containsExactlyInAnyOrder("us-east-1a", "us-east-1b");
    // Savings Plans: the types they have rates for, at the rate; the Windows, dedicated and other-Region rates left out.
    assertThat(committed("r5.large")).isNotEmpty().allSatisfy(o -> assertThat(o.pricePerHour()).isEqualTo(0.08));
    assertThat(committed("m5.xlarge")).isNotEmpty().allSatisfy(o -> assertThat(o.pricePerHour()).isEqualTo(0.124));
    // The regional c5.xlarge RI is size-flexible: it covers a c5.large (half its units) before the Compute plan's rate does.
    double c5 = Catalog.bundled().get("c5.large").orElseThrow().onDemandPricePerHour();
    assertThat(committed("c5.large")).isNotEmpty().allSatisfy(o -> assertThat(o.pricePerHour()).isEqualTo(c5 / CapacityReservations.PRICE_DIVISOR));
    assertThat(committed("m5a.large")).isEmpty();
    assertThat(committed("m6i.large")).isEmpty();

    // Integration off: nothing committed, nothing reported.
    enabled.set(false);
    assertThat(committed("m5.large")).isEmpty();
    assertThat(provider.reservedInstances()).isEmpty();
  }

  @Test
  void aBurstOfParallelLaunchesTakesExactlyWhatTheReservedInstanceCovers() throws Exception {
    int k = 3;
    int n = 8;
    ec2.reservedInstance("m5.large", null, k);
    await(provider.refreshCommitments());
    assertThat(committed("m5.large")).hasSize(2);
    // Answers come late, so every launch of the burst plans while the others are under way.
    ec2.holdAnswers(Duration.ofMillis(300), "CreateFleet");

    List<CompletableFuture<Instance>> launches = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      launches.add(provider.create(claim("m5.large", "m5a.large"), nodeClass).toCompletableFuture());
    }
    List<Instance> launched = new ArrayList<>();
    for (CompletableFuture<Instance> l : launches) {
      launched.add(l.get(60, TimeUnit.SECONDS));
    }

    // Exactly k on the reserved type, the rest on the cheapest on-demand type (m5a.large is cheaper than m5.large at list price).
    assertThat(launchedOf(launched, "m5.large")).isEqualTo(k);
    assertThat(launched).filteredOn(i -> i.instanceType().equals("m5.large")).allSatisfy(i -> assertThat(i.capacityType()).isEqualTo(CapacityType.ON_DEMAND));
    assertThat(launched).filteredOn(i -> !i.instanceType().equals("m5.large")).hasSize(n - k);
    assertThat(ec2.instances().values().stream().filter(i -> i.type().equals("m5.large") && i.tags().get(AwsCloudProvider.OWNER_TAG).equals(cluster)))
        .hasSize(k);
    assertThat(committed("m5.large")).isEmpty();

    // A restarted provider counts the instances it finds (the cluster's own list): the RI stays used up.
    provider = newProvider();
    await(provider.refreshCommitments());
    assertThat(committed("m5.large")).isEmpty();
    Instance next = await(provider.create(claim("m5.large", "m5a.large"), nodeClass));
    assertThat(next.instanceType()).isNotEqualTo("m5.large");
  }

  @Test
  void aSavingsPlanCoversLaunchesWhileItsCommitmentHasRoom() throws Exception {
    // $0.20/h at $0.062/h an m5.large: three are covered (0.186), a fourth is not.
    ec2.savingsPlan("Compute", null, 0.20, Map.of("m5.large", 0.062));
    await(provider.refreshCommitments());

    List<Instance> launched = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      launched.add(await(provider.create(claim("m5.large", "m5a.large"), nodeClass)));
    }

    assertThat(launched.subList(0, 3)).allSatisfy(i -> {
      assertThat(i.instanceType()).isEqualTo("m5.large");
      assertThat(i.pricePerHour()).isEqualTo(0.062);
    });
    assertThat(launched.subList(3, 5)).allSatisfy(i -> assertThat(i.instanceType()).isNotEqualTo("m5.large"));
    assertThat(provider.savingsPlans()).singleElement().satisfies(p -> assertThat(p.inUse()).isCloseTo(0.186, offset(1e-9)));
  }

  @Test
  void aFailedReadKeepsTheLastGoodInventory() throws Exception {
    ec2.reservedInstance("m5.large", "us-east-1b", 1);
    ec2.savingsPlan("Compute", null, 1.0, Map.of("c5.large", 0.055));
    await(provider.refreshCommitments());
    assertThat(committed("m5.large")).isNotEmpty();
    assertThat(committed("c5.large")).isNotEmpty();

    // The account's commitments change, and every read fails (after the SDK's retries).
    ec2.clearCommitments();
    ec2.faultsOn("DescribeReservedInstances", "DescribeSavingsPlans", "DescribeSavingsPlanRates");
    ec2.failNext(1000);
    int before = ec2.calls("DescribeReservedInstances").size();
    await(provider.refreshCommitments());

    assertThat(ec2.calls("DescribeReservedInstances").subList(before, ec2.calls("DescribeReservedInstances").size()))
        .isNotEmpty().allSatisfy(c -> assertThat(c.fault()).isEqualTo(FakeEc2.Fault.INTERNAL_ERROR));
    assertThat(ec2.calls("DescribeSavingsPlans")).last().satisfies(c -> assertThat(c.fault()).isEqualTo(FakeEc2.Fault.INTERNAL_ERROR));
    assertThat(committed("m5.large")).isNotEmpty();
    assertThat(committed("c5.large")).isNotEmpty();
    assertThat(provider.reservedInstances()).containsExactly(new ReservedInstance("m5.large", "us-east-1b", 1));

    // The next read that works replaces it.
    ec2.clearFaults();
    await(provider.refreshCommitments());
    assertThat(committed("m5.large")).isEmpty();
    assertThat(committed("c5.large")).isEmpty();
    assertThat(provider.reservedInstances()).isEmpty();
  }

  @Test
  void nothingIsCommittedUntilTheInstancesInUseWereListedOnce() throws Exception {
    ec2.reservedInstance("m5.large", null, 1);
    // The inventory reads; listing the instances in use fails (after the SDK's retries).
    ec2.faultsOn("DescribeInstances");
    ec2.failNext(1000);
    long from = ec2.nextSeq();
    await(provider.refreshCommitments());

    assertThat(ec2.calls("DescribeInstances")).filteredOn(c -> c.seq() >= from).isNotEmpty()
        .allSatisfy(c -> assertThat(c.fault()).isEqualTo(FakeEc2.Fault.INTERNAL_ERROR));
    assertThat(provider.reservedInstances()).containsExactly(new ReservedInstance("m5.large", null, 1));
    // Every instance of the account might be using it: nothing is offered as committed.
    assertThat(committed("m5.large")).isEmpty();

    // Once a listing works, the room it has is offered.
    ec2.clearFaults();
    await(provider.refreshCommitments());
    assertThat(committed("m5.large")).isNotEmpty();
  }

  @Test
  void everyOnDemandInstanceOfTheAccountInTheRegionUsesTheCommitments() throws Exception {
    ec2.reservedInstance("m5.large", null, 3);
    // Not this cluster's: untagged, another cluster's (pending): each uses a Reserved Instance.
    ec2.runInstance("m5.large", "us-east-1a", "on-demand", null, Map.of(), "running");
    ec2.runInstance("m5.large", "us-east-1b", "on-demand", null, Map.of(AwsCloudProvider.OWNER_TAG, "another-cluster",
        AwsCloudProvider.NODECLAIM_TAG, "theirs"), "pending");
    // Spot, stopped and terminated instances use none.
    ec2.runInstance("m5.large", "us-east-1a", "spot", null, Map.of(), "running");
    ec2.runInstance("m5.large", "us-east-1a", "on-demand", null, Map.of(), "stopped");
    ec2.runInstance("m5.large", "us-east-1a", "on-demand", null, Map.of(), "terminated");
    await(provider.refreshCommitments());
    assertThat(committed("m5.large")).as("one of three left").isNotEmpty();

    // An instance in a capacity reservation is on-demand too: the last one goes.
    ec2.runInstance("m5.large", "us-east-1b", "on-demand", "cr-00000000000000001", Map.of(), "running");
    await(provider.refreshCommitments());
    assertThat(committed("m5.large")).isEmpty();
    // The cluster's own list is still its own instances only.
    assertThat(await(provider.list())).isEmpty();
  }

  @Test
  void noCapacityOnACommittedPoolDoesNotUseUpTheLaunchsAttempts() throws Exception {
    // A regional RI: committed in both zones, and neither has capacity.
    ec2.reservedInstance("m5.large", null, 1);
    await(provider.refreshCommitments());
    assertThat(committed("m5.large")).hasSize(2);
    ec2.noCapacity("m5.large", "*", "on-demand");
    long from = ec2.nextSeq();

    Instance launched = await(provider.create(claim("m5.large", "m5a.large"), nodeClass));

    assertThat(launched.instanceType()).isEqualTo("m5a.large");
    List<FakeEc2.Call> fleets = ec2.calls("CreateFleet").stream().filter(c -> c.seq() >= from).toList();
    // One pool at a time on committed capacity (each failing), then the normal call over the other pools.
    assertThat(fleets).extracting(c -> c.params().get("Overrides")).startsWith("1", "1");
    assertThat(fleets.subList(0, 2)).allSatisfy(c -> assertThat(c.poolErrors()).singleElement().asString().contains("InsufficientInstanceCapacity"));
    assertThat(fleets).last().satisfies(c -> assertThat(c.launched()).hasSize(1));
    assertThat(fleets).extracting(FakeEc2.Call::clientToken).doesNotHaveDuplicates();
  }

  @Test
  void turningTheIntegrationOffAndOnReadsTheAccountAfresh() throws Exception {
    ec2.reservedInstance("m5.large", null, 1);
    await(provider.refreshCommitments());
    assertThat(committed("m5.large")).isNotEmpty();
    enabled.set(false);
    assertThat(committed("m5.large")).isEmpty();

    // While it is off the Reserved Instance expires.
    ec2.clearCommitments();
    enabled.set(true);
    assertThat(committed("m5.large")).as("nothing offered from the read before").isEmpty();
    await(provider.refreshCommitments());
    assertThat(committed("m5.large")).isEmpty();
    assertThat(provider.reservedInstances()).isEmpty();
  }

  @Test
  void reservedInstanceUseIsWhatTheCoverageCharges() throws Exception {
    ec2.reservedInstance("m5.large", "us-east-1a", 1);
    ec2.reservedInstance("m5.large", null, 1);
    ec2.reservedInstance("c5.xlarge", null, 1);
    // An m5.large in the zonal RI's zone uses the zonal one only; a c5.large uses half of the regional c5.xlarge.
    ec2.runInstance("m5.large", "us-east-1a", "on-demand", null, Map.of(), "running");
    ec2.runInstance("c5.large", "us-east-1b", "on-demand", null, Map.of(), "running");
    await(provider.refreshCommitments());

    assertThat(provider.reservedInstanceUse()).containsExactlyInAnyOrder(new CloudProvider.ReservedInstanceUse("m5.large", "us-east-1a", 1, 1.0),
        new CloudProvider.ReservedInstanceUse("m5.large", null, 1, 0.0), new CloudProvider.ReservedInstanceUse("c5.xlarge", null, 1, 0.5));
  }
}
