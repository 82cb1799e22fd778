package dev.dovetail.provisioner.cloud.aws.pricing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.catalog.InstanceType;
import dev.dovetail.api.scheduling.InstanceOption;
import dev.dovetail.api.scheduling.InstanceOptions;
import dev.dovetail.api.scheduling.Offering;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ec2.model.InstanceTypeInfo;
import software.amazon.awssdk.services.ec2.model.SpotPrice;

class AwsCatalogsTest {

  static String priceDocument(String type, String usd) {
    return """
        {"product":{"productFamily":"Compute Instance","attributes":{"instanceType":"%s","regionCode":"us-east-1","operatingSystem":"Linux"},"sku":"SKU1"},
         "serviceCode":"AmazonEC2",
         "terms":{"OnDemand":{"SKU1.JRTCKXETXF":{"offerTermCode":"JRTCKXETXF","sku":"SKU1",
           "priceDimensions":{"SKU1.JRTCKXETXF.6YS6EN2CT7":{"unit":"Hrs","pricePerUnit":{"USD":"%s"},"description":"per hour"}}}}}}
        """.formatted(type, usd);
  }

  @Test
  void anInstanceTypeTakesItsShapeFromEc2AndItsAdvisorDataFromWhatWeKnew() {
    InstanceTypeInfo info = InstanceTypeInfo.builder().instanceType("g5.2xlarge").currentGeneration(true).bareMetal(false)
        .burstablePerformanceSupported(false).hypervisor("nitro").supportedUsageClassesWithStrings("on-demand", "spot")
        .vCpuInfo(v -> v.defaultVCpus(8)).memoryInfo(m -> m.sizeInMiB(32768L))
        .processorInfo(p -> p.supportedArchitecturesWithStrings("x86_64"))
        .gpuInfo(g -> g.gpus(d -> d.count(1).manufacturer("NVIDIA").name("A10G")))
        .networkInfo(n -> n.maximumNetworkInterfaces(4).ipv4AddressesPerInterface(15)).build();
    InstanceType known = Catalog.bundled().get("g5.2xlarge").orElseThrow();

    InstanceType t = AwsCatalogs.instanceType(info, List.of("us-east-1b", "us-east-1a"), Optional.of(known));

    assertThat(t.family()).isEqualTo("g5");
    assertThat(t.size()).isEqualTo("2xlarge");
    assertThat(t.vcpu()).isEqualTo(8);
    assertThat(t.memoryMiB()).isEqualTo(32768);
    assertThat(t.architectures()).containsExactly("amd64");
    assertThat(t.gpuCount()).isEqualTo(1);
    assertThat(t.gpuManufacturer()).contains("NVIDIA");
    assertThat(t.maxPods()).isEqualTo(58);
    assertThat(t.capacityTypes()).containsExactlyInAnyOrder(CapacityType.SPOT, CapacityType.ON_DEMAND);
    assertThat(t.zones()).containsExactly("us-east-1a", "us-east-1b");
    assertThat(t.onDemandPricePerHour()).isEqualTo(known.onDemandPricePerHour());
    assertThat(t.interruption()).isEqualTo(known.interruption());

    InstanceType unknown = AwsCatalogs.instanceType(info.toBuilder().instanceType("zz9.large").build(), List.of("us-east-1a"), Optional.empty());
    assertThat(unknown.onDemandPricePerHour()).isNaN();
    assertThat(unknown.interruption()).isEmpty();
  }

  @Test
  void theOnDemandPriceIsReadFromAPriceListDocument() {
    assertThat(AwsCatalogs.onDemandPrice(priceDocument("m5.large", "0.0960000000"))).contains(Map.entry("m5.large", 0.096));
    assertThat(AwsCatalogs.onDemandPrice(priceDocument("m5.large", "0.0000000000"))).as("placeholder SKU").isEmpty();
    assertThat(AwsCatalogs.onDemandPrice(priceDocument("", "0.1"))).isEmpty();
    assertThat(AwsCatalogs.onDemandPrice("{not json")).isEmpty();
    assertThat(AwsCatalogs.onDemandPrice("{\"product\":{\"attributes\":{\"instanceType\":\"m5.large\"}}}")).isEmpty();
  }

  @Test
  void theNewestSpotQuoteOfEachPoolWins() {
    Instant t0 = Instant.parse("2026-12-04T10:00:00Z");
    List<SpotPrice> history = List.of(
        quote("m5.large", "us-east-1a", "0.040", t0),
        quote("m5.large", "us-east-1a", "0.035", t0.plusSeconds(60)),
        quote("m5.large", "us-east-1b", "0.050", t0),
        quote("m5.large", "us-east-1c", "garbage", t0),
        quote("c5.large", "us-east-1a", "0.030", t0.plusSeconds(60)),
        quote("c5.large", "us-east-1a", "0.031", t0));

    Map<String, Map<String, Double>> latest = AwsCatalogs.latestSpotPrices(history);

    assertThat(latest).containsOnlyKeys("m5.large", "c5.large");
    assertThat(latest.get("m5.large")).containsExactlyInAnyOrderEntriesOf(Map.of("us-east-1a", 0.035, "us-east-1b", 0.050));
    assertThat(latest.get("c5.large")).containsExactly(Map.entry("us-east-1a", 0.030));
  }

  @Test
  void assemblyPricesPoolsByZoneAndLeavesOutWhatItCannotPrice() {
    InstanceType m5 = Catalog.bundled().get("m5.large").orElseThrow();
    InstanceType noPrice = AwsCatalogs.instanceType(InstanceTypeInfo.builder().instanceType("zz9.large")
        .vCpuInfo(v -> v.defaultVCpus(2)).memoryInfo(m -> m.sizeInMiB(4096L)).supportedUsageClassesWithStrings("on-demand").build(),
        List.of("us-east-1a"), Optional.empty());

    AwsCatalogs.Assembly a = AwsCatalogs.assemble("us-east-1", List.of(m5, noPrice), Map.of("m5.large", 0.1),
        Map.of("m5.large", Map.of("us-east-1a", 0.02, "us-east-1b", 0.05)));

    assertThat(a.unpriced()).containsExactly("zz9.large");
    InstanceType priced = a.catalog().get("m5.large").orElseThrow();
    assertThat(priced.onDemandPricePerHour()).isEqualTo(0.1);
    assertThat(priced.pricePerHour(CapacityType.SPOT, "us-east-1a")).isEqualTo(0.02);
    assertThat(priced.pricePerHour(CapacityType.SPOT, "us-east-1b")).isEqualTo(0.05);
    // A zone without a quote falls back to the advisor's estimate from the on-demand price.
    assertThat(priced.pricePerHour(CapacityType.SPOT, "us-east-1f")).isCloseTo(priced.spotPricePerHour(), within(1e-12));

    // The scheduler's offerings carry the zone's own price, so the cheapest zone is the one chosen.
    InstanceOption option = InstanceOptions.from(a.catalog(), Set.of("us-east-1a", "us-east-1b"), OptionalInt.empty(), (t, o) -> false).get(0);
    assertThat(option.offerings()).filteredOn(o -> o.capacityType() == CapacityType.SPOT)
        .extracting(Offering::zone, Offering::pricePerHour)
        .containsExactlyInAnyOrder(Tuple.tuple("us-east-1a", 0.02), Tuple.tuple("us-east-1b", 0.05));
  }

  private static SpotPrice quote(String type, String zone, String price, Instant at) {
    return SpotPrice.builder().instanceType(type).availabilityZone(zone).spotPrice(price).timestamp(at).productDescription("Linux/UNIX").build();
  }
}
