package dev.dovetail.api.bench;

import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.ClaimTemplate;
import dev.dovetail.api.scheduling.InstanceOption;
import dev.dovetail.api.scheduling.InstanceOptions;
import dev.dovetail.api.scheduling.Requirement;
import dev.dovetail.api.scheduling.Requirements;
import dev.dovetail.api.scheduling.Resources;
import dev.dovetail.api.scheduling.Scheduler;
import dev.dovetail.api.scheduling.SchedulingPod;
import dev.dovetail.api.scheduling.Solution;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.TaintBuilder;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Provisioning simulation throughput and heap: 1k, 10k and 50k pending pods of five shapes (two plain,
 * one zone-spread, one with hostname anti-affinity, one GPU) against the full 1,345-type catalog and
 * five NodePools. Run by scripts/bench-provisioner.
 */
public final class SimulationBench {
  public static void main(String[] args) {
    int[] sizes = args.length > 0 ? Arrays.stream(args[0].split(",")).mapToInt(Integer::parseInt).toArray() : new int[] {1000, 10000, 50000};
    List<InstanceOption> options = InstanceOptions.from(Catalog.bundled(), Set.of(), OptionalInt.empty(), (t, o) -> false);
    List<ClaimTemplate> pools = pools(options);
    System.out.printf("Provisioning simulation on %s; %d instance types, %d NodePools%n%n", dev.dovetail.testkit.BenchReport.machine(),
        options.size(), pools.size());
    // Warm the JIT once, so the smallest size is not measured mostly compiling.
    new Scheduler(List.of(), pools, List.of(), 60).solve(pods(5000));
    System.out.println("| pending pods | build pods ms | simulate ms | pods/s | new NodeClaims | unschedulable | heap after (MiB) | peak heap (MiB) |");
    System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (int n : sizes) {
      for (int warm = 0; warm < (n <= 10000 ? 2 : 1); warm++) {
        resetPeaks();
        long t0 = System.nanoTime();
        List<SchedulingPod> pods = pods(n);
        long t1 = System.nanoTime();
        Solution s = new Scheduler(List.of(), pools, List.of(), 60).solve(pods);
        long t2 = System.nanoTime();
        if (warm == (n <= 10000 ? 1 : 0)) {
          System.gc();
          long used = (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) >> 20;
          System.out.printf("| %,d | %,d | %,d | %,.0f | %,d | %,d | %,d | %,d |%n", n, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000,
              n / ((t2 - t1) / 1e9), s.newClaims().size(), s.unschedulable().size(), used, peakHeap() >> 20);
        }
      }
    }
  }

  private static void resetPeaks() {
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      pool.resetPeakUsage();
    }
  }

  private static long peakHeap() {
    long sum = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        sum += pool.getPeakUsage().getUsed();
      }
    }
    return sum;
  }

  private static List<ClaimTemplate> pools(List<InstanceOption> options) {
    Resources daemons = Resources.of("cpu", "200m", "memory", "256Mi");
    List<ClaimTemplate> out = new ArrayList<>();
    out.add(template("general", 50, options, daemons, List.of(), Requirement.in(WellKnownLabels.INSTANCE_CATEGORY, "c", "m", "r"),
        Requirement.in(WellKnownLabels.CAPACITY_TYPE, "spot", "on-demand"), Requirement.of(WellKnownLabels.INSTANCE_GENERATION, "Gt", List.of("4"))));
    out.add(template("compute", 40, options, daemons, List.of(), Requirement.in(WellKnownLabels.INSTANCE_CATEGORY, "c")));
    out.add(template("memory", 30, options, daemons, List.of(), Requirement.in(WellKnownLabels.INSTANCE_CATEGORY, "r", "x")));
    out.add(template("arm", 20, options, daemons, List.of(), Requirement.in(WellKnownLabels.ARCH, "arm64")));
    out.add(template("gpu", 10, options, daemons, List.of(new TaintBuilder().withKey("nvidia.com/gpu").withEffect("NoSchedule").build()),
        Requirement.in(WellKnownLabels.INSTANCE_GPU_MANUFACTURER, "nvidia")));
    return out;
  }

  private static ClaimTemplate template(String name, int weight, List<InstanceOption> options, Resources daemons,
      List<Taint> taints, Requirement... requirements) {
    Requirements r = Requirements.of(requirements).and(Requirement.in(WellKnownLabels.NODEPOOL, name));
    return new ClaimTemplate(name, weight, r, Map.of(WellKnownLabels.NODEPOOL, name), taints, daemons, options, null);
  }

  private static List<SchedulingPod> pods(int n) {
    List<SchedulingPod> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int shape = i % 5;
      PodBuilder b = new PodBuilder().withNewMetadata().withName("p-" + i).withNamespace("bench").withUid("uid-" + i)
          .withCreationTimestamp("2026-11-23T10:00:00Z").addToLabels("app", "shape-" + shape).endMetadata()
          .withNewSpec().addNewContainer().withName("c").withImage("i").withNewResources()
          .addToRequests("cpu", new Quantity(new String[] {"250m", "1", "500m", "2", "4"}[shape]))
          .addToRequests("memory", new Quantity(new String[] {"512Mi", "2Gi", "1Gi", "4Gi", "16Gi"}[shape]))
          .endResources().endContainer().endSpec();
      if (shape == 2) {
        b.editSpec().addNewTopologySpreadConstraint().withMaxSkew(1).withTopologyKey(WellKnownLabels.ZONE).withWhenUnsatisfiable("DoNotSchedule")
            .withLabelSelector(new LabelSelectorBuilder().addToMatchLabels("app", "shape-2").build()).endTopologySpreadConstraint().endSpec();
      } else if (shape == 3 && i < 200) {
        b.editSpec().withNewAffinity().withNewPodAntiAffinity().addNewRequiredDuringSchedulingIgnoredDuringExecution()
            .withTopologyKey(WellKnownLabels.HOSTNAME).withLabelSelector(new LabelSelectorBuilder().addToMatchLabels("anti", "yes").build())
            .endRequiredDuringSchedulingIgnoredDuringExecution().endPodAntiAffinity().endAffinity().endSpec()
            .editMetadata().addToLabels("anti", "yes").endMetadata();
      } else if (shape == 4 && i % 50 == 4) {
        b.editSpec().addToTolerations(new TolerationBuilder().withKey("nvidia.com/gpu").withOperator("Exists").build())
            .editFirstContainer().editResources().addToRequests("nvidia.com/gpu", new Quantity("1")).endResources().endContainer().endSpec();
      }
      Pod pod = b.build();
      out.add(SchedulingPod.of(pod, Requirements.NONE));
    }
    return out;
  }
}
