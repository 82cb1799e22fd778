package dev.dovetail.provisioner;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodAffinityTerm;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The fewest nodes a set of Deployments could run on, worked out in the test from the instance-type file
 * the product bundles, without the product's catalog model, instance options or templates: each type a
 * NodePool's requirements allow gets the allocatable CPU and memory Karpenter's AWS provider documents
 * (kube-reserved CPU 6 % of the first core, 1 % of the second, 0.5 % of the third and fourth, 0.25 % of
 * the rest; memory less 7.5 % VM overhead, 255 MiB + 11 MiB per pod kube-reserved, pods = ENIs × (IPv4
 * addresses per ENI − 1) + 2, and a 100 MiB eviction threshold). No packing can use fewer nodes than
 * the total CPU requested over the largest allocatable CPU, the same for memory, or the replicas of a
 * Deployment whose pods repel each other per node. A packing lower bound, not a packing.
 */
record PackingBound(long cpuMillis, long memoryMiB, String mostCpu, long mostCpuMillis, String mostMemory, long mostMemoryMiB, int onePerNode,
    int nodes) {
  private static final Pattern FAMILY = Pattern.compile("^([a-z]+)(\\d+).*$");

  /** One instance type of the file, as much of it as the bound needs. */
  record Type(String name, String category, int generation, int vcpu, List<String> architectures, List<String> zones, List<String> capacityTypes,
      long allocatableCpuMillis, long allocatableMemoryMiB) {
  }

  /** The bound for the Deployments' pods on nodes of the types the pool's requirements allow. */
  static PackingBound of(List<Deployment> deployments, List<NodeSelectorRequirementWithMinValues> pool) {
    List<Type> allowed = types().stream().filter(t -> pool.stream().allMatch(r -> allows(r, t))).toList();
    if (allowed.isEmpty()) {
      throw new IllegalArgumentException("no instance type of the catalog meets " + pool);
    }
    Type mostCpu = allowed.stream().max((a, b) -> Long.compare(a.allocatableCpuMillis(), b.allocatableCpuMillis())).orElseThrow();
    Type mostMemory = allowed.stream().max((a, b) -> Long.compare(a.allocatableMemoryMiB(), b.allocatableMemoryMiB())).orElseThrow();
    long cpu = 0;
    long memory = 0;
    int onePerNode = 0;
    for (Deployment d : deployments) {
      int replicas = d.getSpec().getReplicas();
      PodSpec pod = d.getSpec().getTemplate().getSpec();
      for (Container c : pod.getContainers()) {
        cpu += replicas * millicores(c.getResources().getRequests().get("cpu"));
        memory += replicas * mebibytes(c.getResources().getRequests().get("memory"));
      }
      if (repelsItselfPerNode(d)) {
        onePerNode = Math.max(onePerNode, replicas);
      }
    }
    int nodes = (int) Math.max(onePerNode, Math.max(ceilDiv(cpu, mostCpu.allocatableCpuMillis()), ceilDiv(memory, mostMemory.allocatableMemoryMiB())));
    return new PackingBound(cpu, memory, mostCpu.name(), mostCpu.allocatableCpuMillis(), mostMemory.name(), mostMemory.allocatableMemoryMiB(),
        onePerNode, nodes);
  }

  @Override
  public String toString() {
    return String.format("packing lower bound %d nodes = max(%,d mCPU / %,d (%s), %,d MiB / %,d (%s), %d pods one per node)", nodes, cpuMillis,
        mostCpuMillis, mostCpu, memoryMiB, mostMemoryMiB, mostMemory, onePerNode);
  }

  /** Every type of the bundled file, with Karpenter's allocatable. */
  static List<Type> types() {
    try (InputStream in = Catalog.class.getResourceAsStream(Catalog.BUNDLED_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(Catalog.BUNDLED_RESOURCE + " is not on the classpath");
      }
      List<Type> out = new ArrayList<>();
      for (JsonNode t : new ObjectMapper().readTree(in).path("instanceTypes")) {
        Matcher family = FAMILY.matcher(t.path("family").asText());
        int vcpu = t.path("vcpu").asInt();
        long memory = t.path("memoryMiB").asLong();
        long pods = (long) t.path("maxNetworkInterfaces").asInt() * (t.path("ipv4PerInterface").asInt() - 1) + 2;
        List<String> architectures = new ArrayList<>();
        t.path("architectures").forEach(a -> architectures.add("x86_64".equals(a.asText()) ? "amd64" : a.asText()));
        out.add(new Type(t.path("name").asText(), family.matches() ? family.group(1) : t.path("family").asText(),
            family.matches() ? Integer.parseInt(family.group(2)) : 0, vcpu, architectures, strings(t.path("zones")), strings(t.path("usageClasses")),
            vcpu * 1000L - kubeReservedCpuMillis(vcpu), (long) Math.floor(memory * 0.925) - (255 + 11 * pods) - 100));
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** 6 % of the first core, 1 % of the second, 0.5 % of the third and fourth, 0.25 % of the rest; rounded down. */
  static long kubeReservedCpuMillis(int vcpu) {
    double millis = 60 + (vcpu >= 2 ? 10 : 0) + 5 * Math.min(2, Math.max(0, vcpu - 2)) + 2.5 * Math.max(0, vcpu - 4);
    return (long) Math.floor(millis);
  }

  /** Whether a requirement of the kinds this test's pools use lets the type in (any other kind is refused, not guessed). */
  private static boolean allows(NodeSelectorRequirementWithMinValues r, Type t) {
    List<String> values = switch (r.key()) {
      case WellKnownLabels.INSTANCE_CATEGORY -> List.of(t.category());
      case WellKnownLabels.INSTANCE_GENERATION -> List.of(Integer.toString(t.generation()));
      case WellKnownLabels.INSTANCE_CPU -> List.of(Integer.toString(t.vcpu()));
      case WellKnownLabels.ARCH -> t.architectures();
      case WellKnownLabels.ZONE -> t.zones();
      case WellKnownLabels.CAPACITY_TYPE -> t.capacityTypes();
      default -> throw new IllegalArgumentException("the bound does not read requirements on " + r.key());
    };
    return switch (r.operator()) {
      case In -> values.stream().anyMatch(r.values()::contains);
      case NotIn -> values.stream().noneMatch(r.values()::contains);
      case Gt -> values.stream().anyMatch(v -> Long.parseLong(v) > Long.parseLong(r.values().get(0)));
      case Lt -> values.stream().anyMatch(v -> Long.parseLong(v) < Long.parseLong(r.values().get(0)));
      default -> throw new IllegalArgumentException("the bound does not read operator " + r.operator());
    };
  }

  /** Required anti-affinity on the hostname to its own pods: at most one replica per node. */
  private static boolean repelsItselfPerNode(Deployment d) {
    var affinity = d.getSpec().getTemplate().getSpec().getAffinity();
    if (affinity == null || affinity.getPodAntiAffinity() == null) {
      return false;
    }
    Map<String, String> own = d.getSpec().getTemplate().getMetadata().getLabels();
    for (PodAffinityTerm term : affinity.getPodAntiAffinity().getRequiredDuringSchedulingIgnoredDuringExecution()) {
      Map<String, String> wanted = term.getLabelSelector() == null ? null : term.getLabelSelector().getMatchLabels();
      if (WellKnownLabels.HOSTNAME.equals(term.getTopologyKey()) && wanted != null && new HashMap<>(own).entrySet().containsAll(wanted.entrySet())) {
        return true;
      }
    }
    return false;
  }

  private static long millicores(Quantity q) {
    return Quantity.getAmountInBytes(q).multiply(BigDecimal.valueOf(1000)).longValueExact();
  }

  private static long mebibytes(Quantity q) {
    return Quantity.getAmountInBytes(q).divide(BigDecimal.valueOf(1L << 20)).longValueExact();
  }

  private static long ceilDiv(long a, long b) {
    return -Math.floorDiv(-a, b);
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(v -> out.add(v.asText()));
    return out;
  }
}
