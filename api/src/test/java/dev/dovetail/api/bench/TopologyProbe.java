package dev.dovetail.api.bench;

import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.scheduling.ClaimTemplate;
import dev.dovetail.api.scheduling.InstanceOptions;
import dev.dovetail.api.scheduling.Scheduler;
import dev.dovetail.api.scheduling.SchedulingPod;
import dev.dovetail.api.scheduling.Solution;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;

/** Quick timing of the topology mix: TopologyProbe <pods> [synthetic|catalog]. */
public final class TopologyProbe {
  public static void main(String[] args) {
    int n = Integer.parseInt(args[0]);
    boolean catalog = args.length > 1 && args[1].equals("catalog");
    ClaimTemplate pool = catalog
        ? TopologyMix.pool(InstanceOptions.from(Catalog.bundled(), Set.copyOf(TopologyMix.ZONES), OptionalInt.empty(), (t, o) -> false), false)
        : TopologyMix.pool(TopologyMix.syntheticTypes(400), true);
    new Scheduler(List.of(), List.of(pool), List.of(), 60).solve(TopologyMix.pods(2000, 1));
    List<SchedulingPod> pods = TopologyMix.pods(n, 42);
    long t0 = System.nanoTime();
    Solution s = new Scheduler(List.of(), List.of(pool), List.of(), 60).solve(pods);
    long t1 = System.nanoTime();
    System.out.printf("%d pods: %.2f s, %.0f pods/s, %d claims, %d unschedulable, peak-ish heap %d MiB%n", n, (t1 - t0) / 1e9,
        n / ((t1 - t0) / 1e9), s.newClaims().size(), s.unschedulable().size(),
        (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) >> 20);
  }
}
