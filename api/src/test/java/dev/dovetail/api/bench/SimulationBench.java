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
import dev.dovetail.testkit.BenchReport;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.TaintBuilder;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Provisioning simulation throughput and heap. First the general mix: 1k, 10k and 50k pending pods of
 * five shapes (two plain, one zone-spread, one with hostname anti-affinity, one GPU) against the full
 * 1,345-type catalog and five NodePools. Then the topology-heavy mix ({@link TopologyMix}: five groups —
 * plain, zone spread, hostname spread, zone self-affinity, hostname anti-affinity — of random sizes) at
 * 1k, 5k, 20k and 50k pods, on 400 synthetic types and on the real catalog, with the scaling exponent
 * fitted to the CPU time from 1k to 20k. Run by scripts/bench-provisioner.
 */
public final class SimulationBench {
  public static void main(String[] args) {
    int[] sizes = args.length > 0 ? Arrays.stream(args[0].split(",")).mapToInt(Integer::parseInt).toArray() : new int[] {1000, 10000, 50000};
    List<InstanceOption> options = InstanceOptions.from(Catalog.bundled(), Set.of(), OptionalInt.empty(), (t, o) -> false);
    List<ClaimTemplate> pools = pools(options);
    System.out.printf("Provisioning simulation on %s; %d instance types, %d NodePools%n%n", BenchReport.machine(),
        options.size(), pools.size());
    // Warm the JIT once, so the smallest size is not measured mostly compiling.
    new Scheduler(List.of(), pools, List.of(), 60).solve(pods(5000));
    System.out.println("| pending pods | build pods ms | simulate ms | pods/s | new NodeClaims | $/h | unschedulable | heap after (MiB) | peak heap (MiB) |");
    System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (int n : sizes) {
      for (int warm = 0; warm < (n <= 10000 ? 2 : 1); warm++) {
        BenchReport.resetPeakHeap();
        long t0 = System.nanoTime();
        List<SchedulingPod> pods = pods(n);
        long t1 = System.nanoTime();
        Solution s = new Scheduler(List.of(), pools, List.of(), 60).solve(pods);
        long t2 = System.nanoTime();
        if (warm == (n <= 10000 ? 1 : 0)) {
          System.gc();
          long used = (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) >> 20;
          double price = s.newClaims().stream().mapToDouble(c -> c.cheapest().cheapestPrice(c.requirements())).sum();
          System.out.printf("| %,d | %,d | %,d | %,.0f | %,d | %,.2f | %,d | %,d | %,d |%n", n, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000,
              n / ((t2 - t1) / 1e9), s.newClaims().size(), price, s.unschedulable().size(), used, BenchReport.peakHeapBytes() >> 20);
        }
      }
    }
    int[] topologySizes = args.length > 1 ? Arrays.stream(args[1].split(",")).mapToInt(Integer::parseInt).toArray()
        : new int[] {1000, 5000, 20000, 50000};
    topology("400 synthetic types (type i: i+1 vCPU, 2(i+1) GiB, 10(i+1) pods), one NodePool with limits far above need",
        TopologyMix.pool(TopologyMix.syntheticTypes(400), true), topologySizes);
    topology("the real catalog in three zones, one NodePool without limits", TopologyMix.pool(InstanceOptions.from(Catalog.bundled(),
        Set.copyOf(TopologyMix.ZONES), OptionalInt.empty(), (t, o) -> false), false), topologySizes);
  }

  /** The topology-heavy mix on one pool: a table row per size and the fitted exponent. */
  private static void topology(String title, ClaimTemplate pool, int[] sizes) {
    System.out.printf("%nTopology-heavy mix, %s:%n%n", title);
    System.out.println("| pending pods | simulate ms (wall) | CPU ms | pods/s | new NodeClaims | $/h | peak heap (MiB) |");
    System.out.println("|---:|---:|---:|---:|---:|---:|---:|");
    new Scheduler(List.of(), List.of(pool), List.of(), 60).solve(TopologyMix.pods(5000, 1));
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    List<double[]> points = new ArrayList<>();
    for (int n : sizes) {
      List<SchedulingPod> pods = TopologyMix.pods(n, 42);
      System.gc();
      BenchReport.resetPeakHeap();
      long cpu0 = threads.getCurrentThreadCpuTime();
      long t0 = System.nanoTime();
      Solution s = new Scheduler(List.of(), List.of(pool), List.of(), 60).solve(pods);
      long wall = System.nanoTime() - t0;
      long cpu = threads.getCurrentThreadCpuTime() - cpu0;
      double price = s.newClaims().stream().mapToDouble(c -> c.cheapest().cheapestPrice(c.requirements())).sum();
      System.out.printf("| %,d | %,d | %,d | %,.0f | %,d | %,.2f | %,d |%n", n, wall / 1_000_000, cpu / 1_000_000, n / (wall / 1e9),
          s.newClaims().size(), price, BenchReport.peakHeapBytes() >> 20);
      if (n >= 1000 && n <= 20000) {
        points.add(new double[] {Math.log(n), Math.log(cpu)});
      }
    }
    System.out.printf("%nScaling exponent (least squares of log CPU time on log pods, 1k-20k): %.2f%n", slope(points));
  }

  private static double slope(List<double[]> points) {
    double mx = points.stream().mapToDouble(p -> p[0]).average().orElse(0);
    double my = points.stream().mapToDouble(p -> p[1]).average().orElse(0);
    double num = 0;
    double den = 0;
    for (double[] p : points) {
      num += (p[0] - mx) * (p[1] - my);
      den += (p[0] - mx) * (p[0] - mx);
    }
    return den == 0 ? Double.NaN : num / den;
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
