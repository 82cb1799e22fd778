package dev.dovetail.provisioner.cloud.aws;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeClaimSpec;
import dev.dovetail.api.karpenter.v1.NodeClassReference;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.ResourceRequirements;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.InstanceOption;
import dev.dovetail.api.scheduling.InstanceOptions;
import dev.dovetail.provisioner.cloud.LaunchPlan;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ec2.model.CreateFleetError;
import software.amazon.awssdk.services.ec2.model.CreateFleetInstance;
import software.amazon.awssdk.services.ec2.model.CreateFleetResponse;
import software.amazon.awssdk.services.ec2.model.DefaultTargetCapacityType;
import software.amazon.awssdk.services.ec2.model.FleetLaunchTemplateOverrides;
import software.amazon.awssdk.services.ec2.model.FleetOnDemandAllocationStrategy;
import software.amazon.awssdk.services.ec2.model.FleetType;
import software.amazon.awssdk.services.ec2.model.LaunchTemplateAndOverridesResponse;
import software.amazon.awssdk.services.ec2.model.SpotAllocationStrategy;

class FleetsTest {
  private static final Set<String> ZONES = Set.of("us-east-1a", "us-east-1b", "us-east-1c");
  private static final List<InstanceOption> OPTIONS = InstanceOptions.from(Catalog.bundled(), ZONES, OptionalInt.empty(), (t, o) -> false);
  private static final Map<String, String> SUBNETS = Map.of("us-east-1a", "subnet-a", "us-east-1b", "subnet-b");
  private static final Map<String, String> IMAGES = Map.of("amd64", "ami-x86", "arm64", "ami-arm");

  private static LaunchPlan plan(String cpu, NodeSelectorRequirementWithMinValues... requirements) {
    NodeClaim c = new NodeClaim();
    c.setSpec(new NodeClaimSpec(null, null, List.of(requirements), new ResourceRequirements(Map.of("cpu", new Quantity(cpu))),
        NodeClassReference.ec2NodeClass("default"), null, null));
    return LaunchPlan.of(c, OPTIONS);
  }

  @Test
  void aSpotCapableClaimAsksForOneSpotInstanceOverTheCheapestPoolsWithSubnetsOnly() {
    LaunchPlan plan = plan("1", NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, "spot", "on-demand"));
    Fleets.Call call = Fleets.call(plan, "uid-1", "dovetail/t/lt", SUBNETS, IMAGES, SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED, false,
        Map.of("karpenter.sh/nodeclaim", "c1")).orElseThrow();
    var request = call.request();
    assertThat(request.type()).isEqualTo(FleetType.INSTANT);
    assertThat(request.clientToken()).isEqualTo("uid-1");
    assertThat(request.targetCapacitySpecification().totalTargetCapacity()).isEqualTo(1);
    assertThat(request.targetCapacitySpecification().defaultTargetCapacityType()).isEqualTo(DefaultTargetCapacityType.SPOT);
    assertThat(request.spotOptions().allocationStrategy()).isEqualTo(SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED);
    var overrides = request.launchTemplateConfigs().get(0).overrides();
    assertThat(request.launchTemplateConfigs().get(0).launchTemplateSpecification().launchTemplateName()).isEqualTo("dovetail/t/lt");
    // Only zones with a subnet, each override naming its zone, subnet and the AMI of its architecture.
    assertThat(overrides).isNotEmpty().allSatisfy(o -> {
      assertThat(o.availabilityZone()).isIn("us-east-1a", "us-east-1b");
      assertThat(o.subnetId()).isEqualTo(SUBNETS.get(o.availabilityZone()));
      assertThat(o.imageId()).isIn("ami-x86", "ami-arm");
    });
    Set<String> types = overrides.stream().map(o -> o.instanceTypeAsString()).collect(Collectors.toSet());
    assertThat(types).hasSize(Fleets.MAX_INSTANCE_TYPES);
    // Priorities follow the price, cheapest first, as the plan orders them.
    List<Double> priorities = overrides.stream().map(o -> o.priority()).toList();
    assertThat(priorities).isSorted();
    assertThat(call.byPool()).hasSize(overrides.size());
    assertThat(request.tagSpecifications()).extracting(t -> t.resourceTypeAsString()).containsExactly("instance", "volume", "fleet");
  }

  @Test
  void anOnDemandClaimUsesLowestPriceOnDemand() {
    LaunchPlan plan = plan("2", NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, "on-demand"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_TYPE, "m5.large", "m5.xlarge", "c5.xlarge"));
    Fleets.Call call = Fleets.call(plan, "uid-2", "lt", SUBNETS, IMAGES, SpotAllocationStrategy.LOWEST_PRICE, false, Map.of()).orElseThrow();
    assertThat(call.request().targetCapacitySpecification().defaultTargetCapacityType()).isEqualTo(DefaultTargetCapacityType.ON_DEMAND);
    assertThat(call.request().onDemandOptions().allocationStrategy()).isEqualTo(FleetOnDemandAllocationStrategy.LOWEST_PRICE);
    assertThat(call.request().spotOptions()).isNull();
    // m5.large has 2 vCPUs: its allocatable cannot hold 2 CPUs of requests.
    assertThat(call.request().launchTemplateConfigs().get(0).overrides()).extracting(o -> o.instanceTypeAsString())
        .containsOnly("m5.xlarge", "c5.xlarge").hasSize(4);
  }

  @Test
  void nothingToAskForWithoutASubnetOrAnImageForTheCandidates() {
    LaunchPlan plan = plan("1", NodeSelectorRequirementWithMinValues.in(WellKnownLabels.ZONE, "us-east-1c"));
    assertThat(Fleets.call(plan, "t", "lt", SUBNETS, IMAGES, SpotAllocationStrategy.LOWEST_PRICE, false, Map.of())).isEmpty();
    LaunchPlan arm = plan("1", NodeSelectorRequirementWithMinValues.in(WellKnownLabels.ARCH, "arm64"));
    assertThat(Fleets.call(arm, "t", "lt", SUBNETS, Map.of("amd64", "ami-x86"), SpotAllocationStrategy.LOWEST_PRICE, false, Map.of())).isEmpty();
  }

  @Test
  void theAnswerNamesTheWinnerAndThePoolsWithoutCapacity() {
    CreateFleetResponse response = CreateFleetResponse.builder()
        .errors(CreateFleetError.builder().errorCode("InsufficientInstanceCapacity").errorMessage("none").lifecycle("spot")
                .launchTemplateAndOverrides(overrides("c5.large", "us-east-1a")).build(),
            CreateFleetError.builder().errorCode("InvalidParameterValue").errorMessage("bad").lifecycle("spot")
                .launchTemplateAndOverrides(overrides("m5.large", "us-east-1b")).build())
        .instances(CreateFleetInstance.builder().instanceIds("i-0abc").instanceType("m5.large").lifecycle("spot")
            .launchTemplateAndOverrides(overrides("m5.large", "us-east-1a")).build())
        .build();
    Fleets.Result result = Fleets.read(response);
    assertThat(result.launched()).hasValue(new Fleets.Launched("i-0abc", "m5.large", "us-east-1a", "spot"));
    assertThat(result.errors()).extracting(Fleets.PoolError::unavailable).containsExactly(true, false);
    assertThat(result.errors().get(0)).extracting(Fleets.PoolError::instanceType, Fleets.PoolError::zone, Fleets.PoolError::capacityType)
        .containsExactly("c5.large", "us-east-1a", "spot");
    assertThat(Fleets.read(CreateFleetResponse.builder().build()).launched()).isEmpty();
  }

  private static LaunchTemplateAndOverridesResponse overrides(String type, String zone) {
    return LaunchTemplateAndOverridesResponse.builder().overrides(FleetLaunchTemplateOverrides.builder().instanceType(type).availabilityZone(zone)
        .build()).build();
  }
}
