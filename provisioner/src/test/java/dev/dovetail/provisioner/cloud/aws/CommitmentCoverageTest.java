package dev.dovetail.provisioner.cloud.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.config.v1alpha1.ReservedInstance;
import dev.dovetail.api.scheduling.Offering;
import dev.dovetail.provisioner.cloud.aws.CommitmentCoverage.Cover;
import dev.dovetail.provisioner.cloud.aws.CommitmentCoverage.Inventory;
import dev.dovetail.provisioner.cloud.aws.CommitmentCoverage.PlanType;
import dev.dovetail.provisioner.cloud.aws.CommitmentCoverage.Running;
import dev.dovetail.provisioner.cloud.aws.CommitmentCoverage.SavingsPlan;
import dev.dovetail.provisioner.cloud.aws.CommitmentCoverage.Usage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ec2.model.ReservedInstances;
import software.amazon.awssdk.services.savingsplans.model.SavingsPlanRate;
import software.amazon.awssdk.services.savingsplans.model.SavingsPlanRateProperty;

/** The coverage math of the account's commitments: who covers a running instance, who has room, at what price. */
class CommitmentCoverageTest {
  private static final Catalog CATALOG = Catalog.bundled();

  private static Inventory ris(ReservedInstance... ris) {
    return new Inventory(List.of(ris), List.of());
  }

  private static Optional<Cover> cover(Inventory inventory, List<Running> running, String type, String zone) {
    return CommitmentCoverage.cover(inventory, CommitmentCoverage.usage(inventory, running), type, zone, 0.1);
  }

  /** Launches one instance at a time where a commitment has room (as the provider's lock does), until none has. */
  private static List<Running> launchWhileCovered(Inventory inventory, String type, String zone, int attempts) {
    List<Running> running = new ArrayList<>();
    for (int i = 0; i < attempts; i++) {
      if (cover(inventory, running, type, zone).isPresent()) {
        running.add(new Running(type, zone));
      }
    }
    return running;
  }

  @Test
  void neverMoreCommittedLaunchesThanTheReservedInstanceCount() {
    Inventory inventory = ris(new ReservedInstance("m5.large", "us-east-1a", 3));
    assertThat(launchWhileCovered(inventory, "m5.large", "us-east-1a", 10)).hasSize(3);
    // Instances already running count: with two up, one more fits.
    assertThat(cover(inventory, List.of(new Running("m5.large", "us-east-1a"), new Running("m5.large", "us-east-1a")), "m5.large", "us-east-1a"))
        .isPresent();
    assertThat(cover(inventory, List.of(new Running("m5.large", "us-east-1a"), new Running("m5.large", "us-east-1a"),
        new Running("m5.large", "us-east-1a")), "m5.large", "us-east-1a")).isEmpty();
    // Two purchases of the same type add up.
    Inventory two = ris(new ReservedInstance("m5.large", null, 2), new ReservedInstance("m5.large", null, 1));
    assertThat(launchWhileCovered(two, "m5.large", "us-east-1b", 10)).hasSize(3);
  }

  @Test
  void aRegionalReservedInstanceCoversEveryZoneAZonalOneOnlyItsOwn() {
    Inventory regional = ris(new ReservedInstance("c5.xlarge", null, 1));
    assertThat(cover(regional, List.of(), "c5.xlarge", "us-east-1a")).isPresent();
    assertThat(cover(regional, List.of(), "c5.xlarge", "us-east-1f")).isPresent();
    assertThat(cover(regional, List.of(), "c5.2xlarge", "us-east-1a")).isEmpty();
    // One instance in any zone uses it up.
    assertThat(cover(regional, List.of(new Running("c5.xlarge", "us-east-1c")), "c5.xlarge", "us-east-1a")).isEmpty();

    Inventory zonal = ris(new ReservedInstance("c5.xlarge", "us-east-1b", 1));
    assertThat(cover(zonal, List.of(), "c5.xlarge", "us-east-1b")).isPresent();
    assertThat(cover(zonal, List.of(), "c5.xlarge", "us-east-1a")).isEmpty();
    // An instance in another zone does not use it.
    assertThat(cover(zonal, List.of(new Running("c5.xlarge", "us-east-1a")), "c5.xlarge", "us-east-1b")).isPresent();
  }

  @Test
  void runningInstancesUseZonalReservationsBeforeRegionalOnesAndReservationsBeforePlans() {
    SavingsPlan plan = new SavingsPlan("sp-1", PlanType.COMPUTE, null, 1.0, Map.of("m5.large", 0.06));
    Inventory inventory = new Inventory(List.of(new ReservedInstance("m5.large", null, 1), new ReservedInstance("m5.large", "us-east-1a", 1)),
        List.of(plan));
    Usage usage = CommitmentCoverage.usage(inventory, List.of(new Running("m5.large", "us-east-1a")));
    // The zonal one takes the instance in its zone; the regional one keeps its room for any zone; the plan is untouched.
    assertThat(usage.reservedInstances()).containsExactly(0.0, 1.0);
    assertThat(usage.savingsPlans()).containsExactly(0.0);
    usage = CommitmentCoverage.usage(inventory, List.of(new Running("m5.large", "us-east-1a"), new Running("m5.large", "us-east-1b"),
        new Running("m5.large", "us-east-1c")));
    assertThat(usage.reservedInstances()).containsExactly(1.0, 1.0);
    assertThat(usage.savingsPlans()).containsExactly(0.06);
  }

  @Test
  void aSavingsPlanCoversOnlyWhileItsCommitmentHasRoomForTheRate() {
    // $0.20/h at $0.06/h per m5.large: three fit (0.18), a fourth would need 0.24.
    Inventory inventory = new Inventory(List.of(), List.of(new SavingsPlan("sp-1", PlanType.EC2_INSTANCE, "m5", 0.20,
        Map.of("m5.large", 0.06, "m5.xlarge", 0.12))));
    assertThat(launchWhileCovered(inventory, "m5.large", "us-east-1a", 10)).hasSize(3);
    // Priced at the plan's rate.
    assertThat(cover(inventory, List.of(), "m5.xlarge", "us-east-1a")).hasValueSatisfying(c -> {
      assertThat(c.reservedInstance()).isFalse();
      assertThat(c.pricePerHour()).isEqualTo(0.12);
    });
    // One m5.xlarge (0.12) leaves 0.08: room for an m5.large, not for another m5.xlarge.
    List<Running> one = List.of(new Running("m5.xlarge", "us-east-1a"));
    assertThat(cover(inventory, one, "m5.large", "us-east-1b")).isPresent();
    assertThat(cover(inventory, one, "m5.xlarge", "us-east-1b")).isEmpty();
  }

  @Test
  void anEc2InstancePlanCoversItsFamilyAComputePlanAnyTypeItHasARateFor() {
    Map<String, Double> rates = Map.of("m5.large", 0.06, "c5.xlarge", 0.11);
    Inventory ec2Instance = new Inventory(List.of(), List.of(new SavingsPlan("sp-1", PlanType.EC2_INSTANCE, "m5", 1.0, rates)));
    assertThat(cover(ec2Instance, List.of(), "m5.large", "us-east-1a")).isPresent();
    assertThat(cover(ec2Instance, List.of(), "c5.xlarge", "us-east-1a")).isEmpty();

    Inventory compute = new Inventory(List.of(), List.of(new SavingsPlan("sp-2", PlanType.COMPUTE, null, 1.0, rates)));
    assertThat(cover(compute, List.of(), "m5.large", "us-east-1a")).isPresent();
    assertThat(cover(compute, List.of(), "c5.xlarge", "us-east-1a")).isPresent();
    assertThat(cover(compute, List.of(), "r5.large", "us-east-1a")).as("no rate, no coverage").isEmpty();

    // Running instances use the EC2 Instance plan first, the Compute plan after.
    Inventory both = new Inventory(List.of(), List.of(new SavingsPlan("compute", PlanType.COMPUTE, null, 1.0, rates),
        new SavingsPlan("m5", PlanType.EC2_INSTANCE, "m5", 0.06, rates)));
    assertThat(CommitmentCoverage.usage(both, List.of(new Running("m5.large", "us-east-1a"), new Running("m5.large", "us-east-1a"))).savingsPlans())
        .containsExactly(0.06, 0.06);
  }

  @Test
  void offeringsAreCommittedOnDemandAtTheEffectivePriceWhereThereIsRoom() {
    Inventory inventory = new Inventory(List.of(new ReservedInstance("m5.large", "us-east-1a", 1)),
        List.of(new SavingsPlan("sp-1", PlanType.COMPUTE, null, 0.1, Map.of("c5.xlarge", 0.1, "no-such.type", 0.01))));
    Map<String, List<Offering>> offerings = CommitmentCoverage.offerings(inventory, List.of(), CATALOG);
    double m5 = CATALOG.get("m5.large").orElseThrow().pricePerHour(CapacityType.ON_DEMAND, "us-east-1a");
    assertThat(offerings.get("m5.large")).singleElement().satisfies(o -> {
      assertThat(o.zone()).isEqualTo("us-east-1a");
      assertThat(o.capacityType()).isEqualTo(CapacityType.ON_DEMAND);
      assertThat(o.committed()).isTrue();
      assertThat(o.available()).isTrue();
      assertThat(o.pricePerHour()).isEqualTo(m5 / CapacityReservations.PRICE_DIVISOR);
    });
    assertThat(offerings.get("c5.xlarge")).isNotEmpty().allSatisfy(o -> {
      assertThat(o.committed()).isTrue();
      assertThat(o.pricePerHour()).isEqualTo(0.1);
    });
    assertThat(offerings.get("c5.xlarge")).extracting(Offering::zone).containsExactlyElementsOf(CATALOG.get("c5.xlarge").orElseThrow().zones());
    assertThat(offerings).doesNotContainKey("no-such.type");

    // Used up: no offering left for either.
    assertThat(CommitmentCoverage.offerings(inventory, List.of(new Running("m5.large", "us-east-1a"), new Running("c5.xlarge", "us-east-1c")),
        CATALOG)).isEmpty();
  }

  @Test
  void onlyActiveLinuxReservedInstancesOnDefaultTenancyCountZonalByScope() {
    ReservedInstances.Builder base = ReservedInstances.builder().reservedInstancesId("ri-1").instanceType("m5.large").instanceCount(2)
        .state("active").productDescription("Linux/UNIX").instanceTenancy("default");
    assertThat(Commitments.reservedInstance(base.scope("Region").build())).contains(new ReservedInstance("m5.large", null, 2));
    assertThat(Commitments.reservedInstance(base.scope("Availability Zone").availabilityZone("us-east-1b").build()))
        .contains(new ReservedInstance("m5.large", "us-east-1b", 2));
    assertThat(Commitments.reservedInstance(base.productDescription("Linux/UNIX (Amazon VPC)").build())).isPresent();
    assertThat(Commitments.reservedInstance(base.productDescription("Windows").build())).isEmpty();
    assertThat(Commitments.reservedInstance(base.productDescription("Linux/UNIX").instanceTenancy("dedicated").build())).isEmpty();
    assertThat(Commitments.reservedInstance(base.instanceTenancy("default").state("retired").build())).isEmpty();
  }

  @Test
  void aRateNamesItsInstanceTypeWhenItIsALinuxSharedBoxRateInTheRegion() {
    SavingsPlanRate.Builder rate = SavingsPlanRate.builder().rate("0.06").productType("EC2").usageType("USE1-BoxUsage:m5.large")
        .properties(prop("region", "us-east-1"), prop("instanceType", "m5.large"), prop("productDescription", "Linux/UNIX"), prop("tenancy", "shared"));
    assertThat(Commitments.instanceTypeOf(rate.build(), "us-east-1")).contains("m5.large");
    assertThat(Commitments.instanceTypeOf(rate.build(), "eu-west-1")).isEmpty();
    assertThat(Commitments.instanceTypeOf(rate.properties(prop("productDescription", "Windows")).build(), "us-east-1")).isEmpty();
    assertThat(Commitments.instanceTypeOf(rate.properties(List.of()).usageType("USE1-DedicatedUsage:m5.large").build(), "us-east-1")).isEmpty();
    assertThat(Commitments.instanceTypeOf(rate.properties(List.of()).usageType("USE1-BoxUsage:c5.xlarge").build(), "us-east-1")).contains("c5.xlarge");
  }

  private static SavingsPlanRateProperty prop(String name, String value) {
    return SavingsPlanRateProperty.builder().name(name).value(value).build();
  }

  @Test
  void aRegionalReservedInstanceCoversTheSizesOfItsFamilyByNormalizedUnits() {
    // An m5.xlarge is 8 units, an m5.large 4: the RI covers two m5.large launches, not a third.
    Inventory regional = ris(new ReservedInstance("m5.xlarge", null, 1));
    assertThat(launchWhileCovered(regional, "m5.large", "us-east-1a", 5)).hasSize(2);
    // A running m5.large uses half of it: room for another m5.large, not for an m5.xlarge (no partial coverage offered).
    List<Running> one = List.of(new Running("m5.large", "us-east-1b"));
    assertThat(cover(regional, one, "m5.large", "us-east-1a")).isPresent();
    assertThat(cover(regional, one, "m5.xlarge", "us-east-1a")).isEmpty();
    assertThat(cover(regional, List.of(), "m5.xlarge", "us-east-1a")).isPresent();
    assertThat(CommitmentCoverage.usage(regional, one).reservedInstances()).containsExactly(0.5);
    // Larger sizes than what is left, other families and metal are not covered.
    assertThat(cover(regional, List.of(), "m5.2xlarge", "us-east-1a")).isEmpty();
    assertThat(cover(regional, List.of(), "m5a.large", "us-east-1a")).isEmpty();
    assertThat(cover(regional, List.of(), "m5.metal", "us-east-1a")).isEmpty();
    // Two m5.2xlarge RIs (32 units) cover an m5.4xlarge, and then nothing more.
    Inventory two = ris(new ReservedInstance("m5.2xlarge", null, 2));
    assertThat(cover(two, List.of(), "m5.4xlarge", "us-east-1a")).isPresent();
    assertThat(cover(two, List.of(new Running("m5.4xlarge", "us-east-1a")), "m5.large", "us-east-1a")).isEmpty();
    // Small sizes: a t3.large RI (4 units) covers 16 t3.nano.
    assertThat(launchWhileCovered(ris(new ReservedInstance("t3.large", null, 1)), "t3.nano", "us-east-1a", 40)).hasSize(16);

    // A zonal RI covers its own type only.
    Inventory zonal = ris(new ReservedInstance("m5.xlarge", "us-east-1a", 1));
    assertThat(cover(zonal, List.of(), "m5.large", "us-east-1a")).isEmpty();
    assertThat(cover(zonal, List.of(), "m5.xlarge", "us-east-1a")).isPresent();
  }

  @Test
  void whatACommitmentLeavesUncoveredGoesToTheNextPlanAtItsRate() {
    // An EC2 Instance plan with $0.01/h left covers a sixth of an m5.large at $0.06/h; the Compute plan the rest at its $0.08/h.
    SavingsPlan compute = new SavingsPlan("compute", PlanType.COMPUTE, null, 1.0, Map.of("m5.large", 0.08, "m5.2xlarge", 0.32));
    SavingsPlan small = new SavingsPlan("m5", PlanType.EC2_INSTANCE, "m5", 0.01, Map.of("m5.large", 0.06));
    Usage usage = CommitmentCoverage.usage(new Inventory(List.of(), List.of(compute, small)), List.of(new Running("m5.large", "us-east-1a")));
    assertThat(usage.savingsPlans().get(1)).isCloseTo(0.01, offset(1e-9));
    assertThat(usage.savingsPlans().get(0)).isCloseTo(0.08 * 5 / 6, offset(1e-9));

    // An m5.2xlarge (16 units) on a regional m5.xlarge RI (8 units): half is covered by the RI, the other half by the plan.
    usage = CommitmentCoverage.usage(new Inventory(List.of(new ReservedInstance("m5.xlarge", null, 1)), List.of(compute)),
        List.of(new Running("m5.2xlarge", "us-east-1a")));
    assertThat(usage.savingsPlans().get(0)).isCloseTo(0.16, offset(1e-9));
  }
}
