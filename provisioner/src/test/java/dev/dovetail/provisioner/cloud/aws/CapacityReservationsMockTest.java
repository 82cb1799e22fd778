package dev.dovetail.provisioner.cloud.aws;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.aws.v1.CapacityReservationSelectorTerm;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.aws.v1.EC2NodeClassStatus;
import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeClaimSpec;
import dev.dovetail.api.karpenter.v1.NodeClassReference;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.ResourceRequirements;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.cloud.Instance;
import dev.dovetail.provisioner.cloud.UnavailableOfferings;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.services.ec2.model.SpotAllocationStrategy;

/**
 * On-demand capacity reservations through the real SDK against {@link FakeEc2} (moto has no
 * reservations): selected by the node class's terms into its status, launched into first when the
 * claim allows {@code reserved}, by a launch template naming the reservation, until full; EC2 saying
 * full corrects our count and the same launch falls back to plain on-demand.
 */
class CapacityReservationsMockTest {
  @RegisterExtension
  static final FakeAccount ACCOUNT = new FakeAccount();
  private static FakeEc2 ec2;
  private static AwsClients aws;
  private AwsCloudProvider provider;
  private String mlReservation;
  private String otherReservation;

  @BeforeAll
  static void start() {
    ec2 = ACCOUNT.ec2();
    aws = ACCOUNT.aws();
  }

  @BeforeEach
  void fresh() {
    String team = "ml-" + UUID.randomUUID().toString().substring(0, 6);
    mlReservation = ec2.reserve("m5.large", "us-east-1a", 2, Map.of("team", team));
    otherReservation = ec2.reserve("c5.xlarge", "us-east-1b", 5, Map.of("team", "other-" + team));
    provider = new AwsCloudProvider(aws, new AwsCloudProvider.Settings("odcr", new UserData.Cluster("odcr", "https://x", "Q0E=", "10.100.0.0/16"),
        "1.34", SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED), Catalog.bundled(), new UnavailableOfferings(), Clock.systemUTC());
    this.team = team;
  }

  private String team;

  private EC2NodeClass nodeClass(String terms) {
    return Serialization.unmarshal("""
        apiVersion: karpenter.k8s.aws/v1
        kind: EC2NodeClass
        metadata: {name: odcr, generation: 1}
        spec:
          role: KarpenterNodeRole-odcr
          amiFamily: AL2023
          amiSelectorTerms: [{id: ami-0abc}]
          subnetSelectorTerms: [{id: subnet-a}]
          securityGroupSelectorTerms: [{id: sg-1}]
          capacityReservationSelectorTerms: %s
        """.formatted(terms), EC2NodeClass.class);
  }

  /** The class resolved: reservations by the provider (against the fake), the rest as a resolver would have it. */
  private EC2NodeClass resolved(String terms) throws Exception {
    EC2NodeClass c = nodeClass(terms);
    EC2NodeClassStatus status = await(provider.resolve(c));
    c.setStatus(FakeEc2.resolvedStatus(status.capacityReservations(), status.conditions()));
    return c;
  }

  private static NodeClaim claim(String... capacityTypes) {
    NodeClaim c = new NodeClaim();
    c.setMetadata(new ObjectMetaBuilder().withName("odcr-" + UUID.randomUUID().toString().substring(0, 8)).withUid(UUID.randomUUID().toString())
        .withLabels(Map.of(WellKnownLabels.NODEPOOL, "odcr")).build());
    c.setSpec(new NodeClaimSpec(null, null, List.of(NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_TYPE, "m5.large", "m5a.large", "c5.xlarge"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, capacityTypes)),
        new ResourceRequirements(Map.of("cpu", new Quantity("1"))), NodeClassReference.ec2NodeClass("odcr"), null, null));
    return c;
  }

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  @Test
  void termsSelectActiveReservationsIntoTheStatus() throws Exception {
    EC2NodeClassStatus byTag = await(provider.resolve(nodeClass("[{tags: {team: " + team + "}}]")));
    assertThat(byTag.capacityReservations()).singleElement().satisfies(r -> {
      assertThat(r.id()).isEqualTo(mlReservation);
      assertThat(r.instanceType()).isEqualTo("m5.large");
      assertThat(r.availabilityZone()).isEqualTo("us-east-1a");
      assertThat(r.ownerID()).isEqualTo("123456789012");
      assertThat(r.instanceMatchCriteria()).isEqualTo(CapacityReservationSelectorTerm.InstanceMatchCriteria.TARGETED);
      assertThat(r.reservationType()).isEqualTo(EC2NodeClassStatus.CapacityReservation.ReservationType.DEFAULT);
    });
    assertThat(byTag.conditions()).filteredOn(c -> c.type().equals("CapacityReservationsReady")).extracting(Condition::status).containsExactly(Condition.Status.True);
    var asked = ec2.requests("DescribeCapacityReservations");
    assertThat(asked.get(asked.size() - 1)).containsValue("state").containsValue("active");

    // Terms are ORed: an id term adds the other reservation.
    EC2NodeClassStatus both = await(provider.resolve(nodeClass("[{tags: {team: " + team + "}}, {id: " + otherReservation + "}]")));
    assertThat(both.capacityReservations()).extracting(EC2NodeClassStatus.CapacityReservation::id)
        .containsExactlyInAnyOrder(mlReservation, otherReservation);

    // No terms: no reservations and no condition about them.
    EC2NodeClassStatus none = await(provider.resolve(nodeClass("[]")));
    assertThat(none.capacityReservations()).isEmpty();
    assertThat(none.conditions()).noneMatch(c -> c.type().equals("CapacityReservationsReady"));
  }

  @Test
  void reservedClaimsLaunchIntoTheReservationUntilItIsFullThenOnDemand() throws Exception {
    EC2NodeClass nodeClass = resolved("[{tags: {team: " + team + "}}]");

    for (int i = 0; i < 2; i++) {
      NodeClaim claim = claim("reserved", "on-demand");
      Instance launched = await(provider.create(claim, nodeClass));
      assertThat(launched.capacityType()).isEqualTo(CapacityType.RESERVED);
      assertThat(launched.instanceType()).isEqualTo("m5.large");
      assertThat(launched.zone()).isEqualTo("us-east-1a");
      assertThat(launched.labels()).containsEntry(WellKnownLabels.CAPACITY_TYPE, "reserved")
          .containsEntry(AwsCloudProvider.RESERVATION_ID_LABEL, mlReservation);
      assertThat(ec2.liveFor(claim.getMetadata().getName())).singleElement().satisfies(f -> assertThat(f.reservation()).isEqualTo(mlReservation));
      var call = ec2.requests("CreateFleet").get(ec2.requests("CreateFleet").size() - 1);
      assertThat(call.get("TargetCapacitySpecification.DefaultTargetCapacityType")).isEqualTo("on-demand");
      assertThat(ec2.reservationOfTemplate(call.get("LaunchTemplateConfigs.1.LaunchTemplateSpecification.LaunchTemplateName"))).contains(mlReservation);
    }
    assertThat(ec2.reservation(mlReservation).available().get()).isZero();

    // Full: the next claim goes to plain on-demand in one call, without trying the reservation.
    int before = ec2.requests("CreateFleet").size();
    Instance third = await(provider.create(claim("reserved", "on-demand"), nodeClass));
    assertThat(third.capacityType()).isEqualTo(CapacityType.ON_DEMAND);
    assertThat(ec2.requests("CreateFleet").size() - before).isEqualTo(1);

    // Listed again (after a restart, say), the reserved instances say so.
    assertThat(await(provider.list())).filteredOn(i -> i.capacityType() == CapacityType.RESERVED).hasSize(2)
        .allSatisfy(i -> assertThat(i.labels()).containsEntry(AwsCloudProvider.RESERVATION_ID_LABEL, mlReservation));
  }

  @Test
  void ec2SayingTheReservationIsFullFallsBackToOnDemandInTheSameLaunch() throws Exception {
    EC2NodeClass nodeClass = resolved("[{tags: {team: " + team + "}}]");
    ec2.reservation(mlReservation).available().set(0);  // used up by someone else since we looked

    int before = ec2.requests("CreateFleet").size();
    Instance launched = await(provider.create(claim("reserved", "on-demand"), nodeClass));

    assertThat(launched.capacityType()).isEqualTo(CapacityType.ON_DEMAND);
    assertThat(ec2.requests("CreateFleet").size() - before).isEqualTo(2);
    // Nothing tries it again before it is described again, and plain on-demand in that pool is still fine.
    assertThat(await(provider.instanceOptions(nodeClass))).filteredOn(o -> o.name().equals("m5.large")).singleElement()
        .satisfies(o -> {
          assertThat(o.offerings()).filteredOn(f -> f.capacityType() == CapacityType.RESERVED).allMatch(f -> !f.available());
          assertThat(o.offerings()).filteredOn(f -> f.capacityType() == CapacityType.ON_DEMAND && f.zone().equals("us-east-1a"))
              .allMatch(f -> f.available());
        });
  }

  @Test
  void aClaimThatDoesNotAllowReservedLeavesReservationsAlone() throws Exception {
    EC2NodeClass nodeClass = resolved("[{tags: {team: " + team + "}}]");

    Instance launched = await(provider.create(claim("on-demand"), nodeClass));

    assertThat(launched.capacityType()).isEqualTo(CapacityType.ON_DEMAND);
    assertThat(ec2.reservation(mlReservation).available().get()).isEqualTo(2);
    assertThat(launched.labels()).doesNotContainKey(AwsCloudProvider.RESERVATION_ID_LABEL);
  }
}
