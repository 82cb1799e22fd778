package dev.dovetail.provisioner.cloud.aws;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.InstanceOption;
import dev.dovetail.provisioner.cloud.LaunchPlan;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import software.amazon.awssdk.services.ec2.model.CreateFleetError;
import software.amazon.awssdk.services.ec2.model.CreateFleetInstance;
import software.amazon.awssdk.services.ec2.model.CreateFleetRequest;
import software.amazon.awssdk.services.ec2.model.CreateFleetResponse;
import software.amazon.awssdk.services.ec2.model.DefaultTargetCapacityType;
import software.amazon.awssdk.services.ec2.model.FleetLaunchTemplateConfigRequest;
import software.amazon.awssdk.services.ec2.model.FleetLaunchTemplateOverridesRequest;
import software.amazon.awssdk.services.ec2.model.FleetLaunchTemplateSpecificationRequest;
import software.amazon.awssdk.services.ec2.model.FleetOnDemandAllocationStrategy;
import software.amazon.awssdk.services.ec2.model.FleetType;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.SpotAllocationStrategy;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.TagSpecification;

/**
 * One NodeClaim's EC2 Fleet call, as pure functions: the request (type {@code instant}, one instance,
 * overrides for the cheapest compatible type × subnet pairs of one capacity type) and the reading of
 * its answer (the instance that won, the pools that failed and why).
 */
final class Fleets {
  /** Karpenter's cap on instance types per launch. */
  static final int MAX_INSTANCE_TYPES = 60;

  /** Per-override error codes that mean "this pool has no capacity now": the offering is skipped for a while. */
  static final Set<String> UNAVAILABLE_CODES = Set.of("InsufficientInstanceCapacity", "UnfulfillableCapacity", "MaxSpotInstanceCountExceeded",
      "VcpuLimitExceeded", "Unsupported", "MaxFleetCountExceeded", "InsufficientFreeAddressesInSubnet", "ReservationCapacityExceeded");

  private Fleets() {
  }

  /** What one fleet call launches: its overrides' candidates (to map the winner back) and the request. */
  record Call(CapacityType capacityType, Map<String, LaunchPlan.Candidate> byPool, CreateFleetRequest request) {
  }

  /** An override that failed: its pool and EC2's code and message. */
  record PoolError(String instanceType, String zone, String capacityType, String code, String message) {
    boolean unavailable() {
      return UNAVAILABLE_CODES.contains(code);
    }
  }

  /** The instance launched, if one was, and the pools that failed. */
  record Result(Optional<Launched> launched, List<PoolError> errors) {
  }

  record Launched(String instanceId, String instanceType, String zone, String capacityType) {
  }

  static String pool(String instanceType, String zone) {
    return instanceType + "@" + zone;
  }

  /**
   * The call for a plan: the capacity type of its best candidate (reserved, then spot, then on-demand),
   * and of that type the first {@value #MAX_INSTANCE_TYPES} instance types in plan order, each in every
   * zone it is offered in that has a subnet, with the AMI of its architecture. When the best candidate is
   * on-demand capacity a commitment covers, the call is that one pool alone.
   *
   * @param subnets          subnet ID by zone (one per zone: the class's subnet there with the most free addresses)
   * @param imageByArch      AMI ID by architecture label value
   * @param spotStrategy     the allocation strategy for spot launches
   * @param onDemandPriority price order for on-demand ({@code prioritized}) instead of {@code lowest-price}
   */
  static Optional<Call> call(LaunchPlan plan, String clientToken, String launchTemplate, Map<String, String> subnets, Map<String, String> imageByArch,
      SpotAllocationStrategy spotStrategy, boolean onDemandPriority, Map<String, String> tags) {
    // An option's architecture, worked out once per option (a plan holds thousands of candidates).
    Map<InstanceOption, String> archOf = new IdentityHashMap<>();
    Predicate<LaunchPlan.Candidate> usable = c -> subnets.containsKey(c.offering().zone())
        && imageByArch.containsKey(archOf.computeIfAbsent(c.option(), Fleets::arch));
    CapacityType type = null;
    Set<String> types = new LinkedHashSet<>();
    Map<String, LaunchPlan.Candidate> byPool = new LinkedHashMap<>();
    for (LaunchPlan.Candidate c : plan.candidates()) {
      if (type != null && (c.offering().capacityType() != type || c.offering().committed()) || !usable.test(c)) {
        continue;
      }
      type = c.offering().capacityType();
      if (c.offering().committed()) {
        // Capacity a commitment covers launches one pool at a time: the room it takes is then exactly the instance it gets.
        byPool.put(pool(c.option().name(), c.offering().zone()), c);
        break;
      }
      if (!types.contains(c.option().name()) && types.size() >= MAX_INSTANCE_TYPES) {
        continue;
      }
      types.add(c.option().name());
      byPool.putIfAbsent(pool(c.option().name(), c.offering().zone()), c);
    }
    if (type == null) {
      return Optional.empty();
    }
    DefaultTargetCapacityType target = type == CapacityType.SPOT ? DefaultTargetCapacityType.SPOT : DefaultTargetCapacityType.ON_DEMAND;
    List<FleetLaunchTemplateOverridesRequest> overrides = new ArrayList<>();
    for (LaunchPlan.Candidate c : byPool.values()) {
      overrides.add(FleetLaunchTemplateOverridesRequest.builder()
          .instanceType(c.option().name())
          .subnetId(subnets.get(c.offering().zone()))
          .availabilityZone(c.offering().zone())
          .imageId(imageByArch.get(archOf.get(c.option())))
          // Lower is preferred: the price, for the strategies that read priorities.
          .priority(c.offering().pricePerHour())
          .build());
    }
    List<Tag> tagList = tags.entrySet().stream().map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList();
    CreateFleetRequest.Builder request = CreateFleetRequest.builder()
        .type(FleetType.INSTANT)
        .clientToken(clientToken)
        .launchTemplateConfigs(FleetLaunchTemplateConfigRequest.builder()
            .launchTemplateSpecification(FleetLaunchTemplateSpecificationRequest.builder().launchTemplateName(launchTemplate).version("$Latest").build())
            .overrides(overrides).build())
        .targetCapacitySpecification(t -> t.totalTargetCapacity(1).defaultTargetCapacityType(target))
        .tagSpecifications(TagSpecification.builder().resourceType(ResourceType.INSTANCE).tags(tagList).build(),
            TagSpecification.builder().resourceType(ResourceType.VOLUME).tags(tagList).build(),
            TagSpecification.builder().resourceType(ResourceType.FLEET).tags(tagList).build());
    if (type == CapacityType.SPOT) {
      request.spotOptions(s -> s.allocationStrategy(spotStrategy));
    } else {
      request.onDemandOptions(o -> o.allocationStrategy(onDemandPriority ? FleetOnDemandAllocationStrategy.PRIORITIZED
          : FleetOnDemandAllocationStrategy.LOWEST_PRICE));
    }
    return Optional.of(new Call(type, byPool, request.build()));
  }

  /** The same call for another claim: its client token and tags (a shape computed once serves a burst of like claims). */
  static Call forClaim(Call shape, String clientToken, Map<String, String> tags) {
    List<Tag> tagList = tags.entrySet().stream().map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList();
    return new Call(shape.capacityType(), shape.byPool(), shape.request().toBuilder().clientToken(clientToken)
        .tagSpecifications(TagSpecification.builder().resourceType(ResourceType.INSTANCE).tags(tagList).build(),
            TagSpecification.builder().resourceType(ResourceType.VOLUME).tags(tagList).build(),
            TagSpecification.builder().resourceType(ResourceType.FLEET).tags(tagList).build()).build());
  }

  /**
   * The call with each pool launching from its own template (a reserved pool from the template naming
   * its reservation): one launch template config per template, holding that template's overrides.
   * Pools {@code templateOf} has no template for are left out.
   */
  static Call withTemplates(Call call, Function<String, Optional<String>> templateOf) {
    Map<String, List<FleetLaunchTemplateOverridesRequest>> byTemplate = new LinkedHashMap<>();
    Map<String, LaunchPlan.Candidate> kept = new LinkedHashMap<>();
    List<FleetLaunchTemplateOverridesRequest> overrides = call.request().launchTemplateConfigs().stream()
        .flatMap(c -> c.overrides().stream()).toList();
    for (FleetLaunchTemplateOverridesRequest o : overrides) {
      String pool = pool(o.instanceTypeAsString(), o.availabilityZone());
      Optional<String> template = templateOf.apply(pool);
      if (template.isPresent() && call.byPool().containsKey(pool)) {
        byTemplate.computeIfAbsent(template.get(), t -> new ArrayList<>()).add(o);
        kept.put(pool, call.byPool().get(pool));
      }
    }
    List<FleetLaunchTemplateConfigRequest> configs = new ArrayList<>();
    byTemplate.forEach((template, list) -> configs.add(FleetLaunchTemplateConfigRequest.builder()
        .launchTemplateSpecification(FleetLaunchTemplateSpecificationRequest.builder().launchTemplateName(template).version("$Latest").build())
        .overrides(list).build()));
    return new Call(call.capacityType(), kept, call.request().toBuilder().launchTemplateConfigs(configs).build());
  }

  /** The architecture label value an option serves (amd64 unless it names one). */
  static String arch(InstanceOption option) {
    return option.requirements().get(WellKnownLabels.ARCH).filter(r -> !r.complement() && r.values().size() == 1)
        .map(r -> r.values().iterator().next()).orElse("amd64");
  }

  /** Reads the answer: the first instance ID returned (one was asked for) and every per-override error. */
  static Result read(CreateFleetResponse response) {
    Optional<Launched> launched = Optional.empty();
    for (CreateFleetInstance i : response.instances()) {
      if (i.instanceIds().isEmpty()) {
        continue;
      }
      String zone = i.launchTemplateAndOverrides() != null && i.launchTemplateAndOverrides().overrides() != null
          ? i.launchTemplateAndOverrides().overrides().availabilityZone() : null;
      launched = Optional.of(new Launched(i.instanceIds().get(0), i.instanceTypeAsString(), zone, i.lifecycleAsString()));
      break;
    }
    List<PoolError> errors = new ArrayList<>();
    for (CreateFleetError e : response.errors()) {
      var o = e.launchTemplateAndOverrides() == null ? null : e.launchTemplateAndOverrides().overrides();
      errors.add(new PoolError(o == null ? null : o.instanceTypeAsString(), o == null ? null : o.availabilityZone(), e.lifecycleAsString(),
          e.errorCode(), e.errorMessage()));
    }
    return new Result(launched, errors);
  }
}
