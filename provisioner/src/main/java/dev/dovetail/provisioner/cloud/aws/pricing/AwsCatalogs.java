package dev.dovetail.provisioner.cloud.aws.pricing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.catalog.InstanceType;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.TreeMap;
import software.amazon.awssdk.services.ec2.model.GpuDeviceInfo;
import software.amazon.awssdk.services.ec2.model.InstanceTypeInfo;
import software.amazon.awssdk.services.ec2.model.SpotPrice;

/**
 * Pure translations from what the EC2 and Price List APIs answer to the catalog model, kept apart from
 * the calls so each can be tested on its own: an instance type's shape, an on-demand price from a price
 * list document, the newest spot quote per type and zone, and the catalog they make together.
 */
public final class AwsCatalogs {
  private static final ObjectMapper JSON = new ObjectMapper();

  private AwsCatalogs() {
  }

  /**
   * The shape of one type as DescribeInstanceTypes reports it, in the zones DescribeInstanceTypeOfferings
   * lists. The Spot Instance Advisor's savings and interruption bucket have no EC2 API, so they come from
   * what we already know of the type ({@code known}, the bundled catalog), as does a price until the
   * Price List API has answered.
   */
  public static InstanceType instanceType(InstanceTypeInfo info, Collection<String> zones, Optional<InstanceType> known) {
    String name = info.instanceTypeAsString();
    int dot = name.indexOf('.');
    List<GpuDeviceInfo> gpus = info.gpuInfo() == null ? List.of() : info.gpuInfo().gpus();
    int gpuCount = gpus.stream().mapToInt(g -> g.count() == null ? 0 : g.count()).sum();
    Optional<GpuDeviceInfo> firstGpu = gpus.stream().findFirst();
    List<String> architectures = info.processorInfo() == null ? List.of()
        : info.processorInfo().supportedArchitecturesAsStrings().stream().map(Catalog::kubernetesArch).distinct().toList();
    return new InstanceType(
        name,
        dot < 0 ? name : name.substring(0, dot),
        dot < 0 ? "" : name.substring(dot + 1),
        info.vCpuInfo() == null || info.vCpuInfo().defaultVCpus() == null ? 0 : info.vCpuInfo().defaultVCpus(),
        info.memoryInfo() == null || info.memoryInfo().sizeInMiB() == null ? 0 : info.memoryInfo().sizeInMiB(),
        architectures,
        gpuCount,
        firstGpu.map(GpuDeviceInfo::manufacturer),
        firstGpu.map(GpuDeviceInfo::name),
        info.networkInfo() == null || info.networkInfo().maximumNetworkInterfaces() == null ? 0 : info.networkInfo().maximumNetworkInterfaces(),
        info.networkInfo() == null || info.networkInfo().ipv4AddressesPerInterface() == null ? 0 : info.networkInfo().ipv4AddressesPerInterface(),
        info.hypervisorAsString() == null ? "" : info.hypervisorAsString(),
        Boolean.TRUE.equals(info.bareMetal()),
        Boolean.TRUE.equals(info.burstablePerformanceSupported()),
        Boolean.TRUE.equals(info.currentGeneration()),
        Catalog.capacityTypes(info.supportedUsageClassesAsStrings()),
        zones.stream().sorted().toList(),
        known.map(InstanceType::onDemandPricePerHour).orElse(Double.NaN),
        known.map(InstanceType::spotSavingsPercent).orElse(OptionalDouble.empty()),
        known.flatMap(InstanceType::interruption),
        Map.of());
  }

  /**
   * The instance type and hourly USD price of one Price List API product document (GetProducts answers
   * a JSON string per product): {@code product.attributes.instanceType} and the first on-demand term's
   * first price dimension. Empty for a document without them or with a zero price (a placeholder SKU).
   */
  public static Optional<Map.Entry<String, Double>> onDemandPrice(String priceListDocument) {
    JsonNode root;
    try {
      root = JSON.readTree(priceListDocument);
    } catch (IOException e) {
      return Optional.empty();
    }
    String type = root.path("product").path("attributes").path("instanceType").asText("");
    if (type.isEmpty()) {
      return Optional.empty();
    }
    for (Iterator<JsonNode> terms = root.path("terms").path("OnDemand").elements(); terms.hasNext(); ) {
      for (Iterator<JsonNode> dims = terms.next().path("priceDimensions").elements(); dims.hasNext(); ) {
        JsonNode usd = dims.next().path("pricePerUnit").path("USD");
        if (usd.isTextual() || usd.isNumber()) {
          try {
            double price = Double.parseDouble(usd.asText());
            if (price > 0) {
              return Optional.of(Map.entry(type, price));
            }
          } catch (NumberFormatException ignored) {
            // not a price: try the next dimension
          }
        }
      }
    }
    return Optional.empty();
  }

  /** The newest quote per instance type and zone (the history can hold several per pool). */
  public static Map<String, Map<String, Double>> latestSpotPrices(Iterable<SpotPrice> history) {
    Map<String, Map<String, Quote>> newest = new HashMap<>();
    for (SpotPrice p : history) {
      if (p.instanceTypeAsString() == null || p.availabilityZone() == null || p.spotPrice() == null) {
        continue;
      }
      double price;
      try {
        price = Double.parseDouble(p.spotPrice());
      } catch (NumberFormatException e) {
        continue;
      }
      if (!(price > 0)) {
        continue;
      }
      Instant at = p.timestamp() == null ? Instant.EPOCH : p.timestamp();
      newest.computeIfAbsent(p.instanceTypeAsString(), t -> new HashMap<>())
          .merge(p.availabilityZone(), new Quote(price, at), (a, b) -> b.at().isAfter(a.at()) ? b : a);
    }
    Map<String, Map<String, Double>> out = new TreeMap<>();
    newest.forEach((type, zones) -> {
      Map<String, Double> byZone = new TreeMap<>();
      zones.forEach((zone, q) -> byZone.put(zone, q.price()));
      out.put(type, byZone);
    });
    return out;
  }

  private record Quote(double price, Instant at) {
  }

  /**
   * The catalog of {@code types} priced: on-demand from the price list (else the price the type had), spot
   * per zone from the quotes. A type with no on-demand price at all is left out, as Karpenter leaves out
   * offerings it cannot price: the provisioner would otherwise compare a NaN.
   */
  public static Assembly assemble(String region, Collection<InstanceType> types, Map<String, Double> onDemand,
      Map<String, Map<String, Double>> spot) {
    List<InstanceType> priced = new ArrayList<>(types.size());
    List<String> unpriced = new ArrayList<>();
    for (InstanceType t : types) {
      double price = onDemand.getOrDefault(t.name(), t.onDemandPricePerHour());
      if (Double.isNaN(price) || price <= 0) {
        unpriced.add(t.name());
        continue;
      }
      priced.add(t.withPrices(price, spot.getOrDefault(t.name(), Map.of())));
    }
    return new Assembly(new Catalog(region, priced), unpriced);
  }

  /** A catalog and the types left out of it for want of a price. */
  public record Assembly(Catalog catalog, List<String> unpriced) {
    public Assembly {
      unpriced = List.copyOf(unpriced);
    }
  }
}
