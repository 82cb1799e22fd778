package dev.dovetail.api.catalog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * The instance types Dovetail knows, by name. The bundled catalog covers us-east-1 (1,345 types; specs
 * and zones from moto, on-demand prices from Karpenter's generated price table, spot savings and
 * interruption buckets from the Spot Instance Advisor); the AWS provider refreshes it from the EC2 APIs.
 */
public final class Catalog {
  public static final String BUNDLED_RESOURCE = "/dev/dovetail/api/catalog/aws-us-east-1-instance-types.json";

  private static volatile Catalog bundled;

  private final String region;
  private final Map<String, InstanceType> byName;

  public Catalog(String region, Collection<InstanceType> types) {
    this.region = region;
    Map<String, InstanceType> map = new LinkedHashMap<>();
    for (InstanceType t : types) {
      map.put(t.name(), t);
    }
    this.byName = Collections.unmodifiableMap(map);
  }

  /** The catalog shipped in this jar, loaded once. */
  public static Catalog bundled() {
    Catalog c = bundled;
    if (c == null) {
      synchronized (Catalog.class) {
        c = bundled;
        if (c == null) {
          try (InputStream in = Catalog.class.getResourceAsStream(BUNDLED_RESOURCE)) {
            if (in == null) {
              throw new IllegalStateException("the bundled catalog " + BUNDLED_RESOURCE + " is missing from the classpath");
            }
            c = parse(in);
          } catch (IOException e) {
            throw new UncheckedIOException("cannot read the bundled catalog", e);
          }
          bundled = c;
        }
      }
    }
    return c;
  }

  /** Reads the catalog JSON format (see the bundled file's "sources"). */
  public static Catalog parse(InputStream json) throws IOException {
    JsonNode root = new ObjectMapper().readTree(json);
    List<InstanceType> types = new ArrayList<>();
    for (JsonNode t : root.path("instanceTypes")) {
      types.add(new InstanceType(
          t.path("name").asText(),
          t.path("family").asText(),
          t.path("size").asText(),
          t.path("vcpu").asInt(),
          t.path("memoryMiB").asLong(),
          strings(t.path("architectures")).stream().map(Catalog::kubernetesArch).toList(),
          t.path("gpuCount").asInt(),
          text(t.path("gpuManufacturer")),
          text(t.path("gpuName")),
          t.path("maxNetworkInterfaces").asInt(),
          t.path("ipv4PerInterface").asInt(),
          t.path("hypervisor").asText(""),
          t.path("bareMetal").asBoolean(),
          t.path("burstable").asBoolean(),
          t.path("currentGeneration").asBoolean(),
          capacityTypes(strings(t.path("usageClasses"))),
          strings(t.path("zones")),
          t.path("onDemandPricePerHour").asDouble(),
          t.hasNonNull("spotSavingsPercent") ? OptionalDouble.of(t.get("spotSavingsPercent").asDouble()) : OptionalDouble.empty(),
          text(t.path("spotInterruptionBucket")).flatMap(InterruptionBucket::fromLabel),
          Map.of()));
    }
    return new Catalog(root.path("region").asText(), types);
  }

  public String region() {
    return region;
  }

  public Optional<InstanceType> get(String name) {
    return Optional.ofNullable(name == null ? null : byName.get(name));
  }

  public Collection<InstanceType> all() {
    return byName.values();
  }

  public int size() {
    return byName.size();
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  private static Optional<String> text(JsonNode n) {
    return n == null || n.isNull() || n.isMissingNode() ? Optional.empty() : Optional.of(n.asText());
  }

  /** EC2's architecture names as Kubernetes spells them (x86_64 → amd64). */
  public static String kubernetesArch(String ec2) {
    return switch (ec2) {
      case "x86_64", "x86_64_mac" -> "amd64";
      case "arm64", "arm64_mac" -> "arm64";
      default -> ec2;
    };
  }

  /** EC2 usage classes (spot, on-demand) as capacity types. */
  public static Set<CapacityType> capacityTypes(List<String> usageClasses) {
    Set<CapacityType> out = EnumSet.noneOf(CapacityType.class);
    for (String u : usageClasses) {
      if (u.equals("spot")) {
        out.add(CapacityType.SPOT);
      } else if (u.equals("on-demand")) {
        out.add(CapacityType.ON_DEMAND);
      }
    }
    return out;
  }
}
