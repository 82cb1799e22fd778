package dev.dovetail.api.bench;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.ClaimTemplate;
import dev.dovetail.api.scheduling.InstanceOption;
import dev.dovetail.api.scheduling.Offering;
import dev.dovetail.api.scheduling.Requirement;
import dev.dovetail.api.scheduling.Requirements;
import dev.dovetail.api.scheduling.Resources;
import dev.dovetail.api.scheduling.SchedulingPod;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The topology-heavy workload of the provisioning-at-scale issue: pods in five equal groups — plain;
 * zone topology spread (maxSkew 1, DoNotSchedule); hostname topology spread; zone pod self-affinity;
 * hostname pod anti-affinity — with CPU 100m–1500m and memory 100Mi–4Gi at random, and 400 synthetic
 * instance types (type i: i+1 vCPU, 2(i+1) GiB, 10(i+1) pods) in three zones, one NodePool.
 */
public final class TopologyMix {
  static final List<String> ZONES = List.of("us-east-1a", "us-east-1b", "us-east-1c");

  private TopologyMix() {
  }

  /** Type i has i+1 vCPU, 2(i+1) GiB and room for 10(i+1) pods; on-demand and spot in every zone, priced by size. */
  public static List<InstanceOption> syntheticTypes(int count) {
    List<InstanceOption> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int vcpu = i + 1;
      String name = "syn." + vcpu + "x";
      Resources capacity = new Resources(Map.of(Resources.CPU, vcpu * 1000L, Resources.MEMORY, 2L * vcpu << 30, Resources.PODS, 10L * vcpu));
      Requirements labels = Requirements.of(Requirement.in(WellKnownLabels.INSTANCE_TYPE, name), Requirement.in(WellKnownLabels.ARCH, "amd64"),
          Requirement.in(WellKnownLabels.OS, "linux"), Requirement.in(WellKnownLabels.INSTANCE_CPU, Integer.toString(vcpu)));
      List<Offering> offerings = new ArrayList<>();
      for (String zone : ZONES) {
        offerings.add(new Offering(zone, CapacityType.ON_DEMAND, 0.05 * vcpu, true));
        offerings.add(new Offering(zone, CapacityType.SPOT, 0.02 * vcpu, true));
      }
      out.add(new InstanceOption(name, labels, capacity, Resources.NONE, offerings));
    }
    return out;
  }

  /** One NodePool over the options; {@code limited}: with limits far above what the workload needs. */
  public static ClaimTemplate pool(List<InstanceOption> options, boolean limited) {
    Requirements r = Requirements.of(Requirement.in(WellKnownLabels.NODEPOOL, "default"),
        Requirement.in(WellKnownLabels.CAPACITY_TYPE, "spot", "on-demand"));
    Resources limits = limited ? new Resources(Map.of(Resources.CPU, 1L << 50, Resources.MEMORY, 1L << 60)) : null;
    return new ClaimTemplate("default", 10, r, Map.of(WellKnownLabels.NODEPOOL, "default"), List.of(), Resources.NONE, options, limits);
  }

  /** {@code n} pods of the five groups, sizes drawn from {@code seed}. */
  public static List<SchedulingPod> pods(int n, long seed) {
    Random random = new Random(seed);
    List<SchedulingPod> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int group = i % 5;
      String app = "g" + group;
      long milli = 100 + random.nextInt(1401);
      long mib = 100 + random.nextInt(3997);
      PodBuilder b = new PodBuilder().withNewMetadata().withName("p-" + i).withNamespace("bench").withUid("uid-" + i)
          .withCreationTimestamp("2026-12-06T10:00:00Z").addToLabels("app", app).endMetadata()
          .withNewSpec().addNewContainer().withName("c").withImage("i").withNewResources()
          .addToRequests("cpu", new Quantity(milli + "m")).addToRequests("memory", new Quantity(mib + "Mi"))
          .endResources().endContainer().endSpec();
      var selector = new LabelSelectorBuilder().addToMatchLabels("app", app).build();
      switch (group) {
        case 1 -> b.editSpec().addNewTopologySpreadConstraint().withMaxSkew(1).withTopologyKey(WellKnownLabels.ZONE)
            .withWhenUnsatisfiable("DoNotSchedule").withLabelSelector(selector).endTopologySpreadConstraint().endSpec();
        case 2 -> b.editSpec().addNewTopologySpreadConstraint().withMaxSkew(1).withTopologyKey(WellKnownLabels.HOSTNAME)
            .withWhenUnsatisfiable("DoNotSchedule").withLabelSelector(selector).endTopologySpreadConstraint().endSpec();
        case 3 -> b.editSpec().withNewAffinity().withNewPodAffinity().addNewRequiredDuringSchedulingIgnoredDuringExecution()
            .withTopologyKey(WellKnownLabels.ZONE).withLabelSelector(selector).endRequiredDuringSchedulingIgnoredDuringExecution()
            .endPodAffinity().endAffinity().endSpec();
        case 4 -> b.editSpec().withNewAffinity().withNewPodAntiAffinity().addNewRequiredDuringSchedulingIgnoredDuringExecution()
            .withTopologyKey(WellKnownLabels.HOSTNAME).withLabelSelector(selector).endRequiredDuringSchedulingIgnoredDuringExecution()
            .endPodAntiAffinity().endAffinity().endSpec();
        default -> { }
      }
      out.add(SchedulingPod.of(b.build(), Requirements.NONE));
    }
    return out;
  }
}
