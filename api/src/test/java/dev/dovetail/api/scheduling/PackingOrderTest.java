package dev.dovetail.api.scheduling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * The packing order: a permutation of the batch that keeps Karpenter's order within each shape and hands
 * every shape its share of each stretch of the order, so no shape is left to the end.
 */
class PackingOrderTest {
  private static final String[][] SHAPES = {{"2", "1Gi"}, {"1500m", "4Gi"}, {"1", "2Gi"}, {"500m", "1Gi"}, {"300m", "3Gi"}, {"250m", "512Mi"},
      {"100m", "128Mi"}, {"4", "16Gi"}};

  private static List<SchedulingPod> batch(Random random, int shapes, int pods) {
    List<SchedulingPod> out = new ArrayList<>();
    for (int i = 0; i < pods; i++) {
      String[] shape = SHAPES[random.nextInt(shapes)];
      out.add(Sim.of(Sim.pod("p-" + i, shape[0], shape[1]).editMetadata()
          .withCreationTimestamp(String.format("2026-11-23T10:%02d:%02dZ", random.nextInt(60), random.nextInt(60))).endMetadata().build()));
    }
    return out;
  }

  @Property(tries = 1000)
  void everyShapeGetsItsShareOfEachStretchInKarpentersOrderWithin(@ForAll @IntRange(min = 1, max = 8) int shapes,
      @ForAll @IntRange(min = 0, max = 400) int pods, @ForAll long seed) {
    List<SchedulingPod> batch = batch(new Random(seed), shapes, pods);
    List<SchedulingPod> order = SchedulingPod.packingOrder(batch);
    assertThat(order).containsExactlyInAnyOrderElementsOf(batch);
    Map<Resources, List<SchedulingPod>> byShape = new LinkedHashMap<>();
    order.forEach(p -> byShape.computeIfAbsent(p.requests(), k -> new ArrayList<>()).add(p));
    byShape.values().forEach(same -> assertThat(same).isSortedAccordingTo(SchedulingPod.PACKING_ORDER));
    // After k pods, a shape with n of the batch's N pods has had its share k·n/N, give or take one pod.
    Map<Resources, Integer> taken = new HashMap<>();
    for (int k = 1; k <= order.size(); k++) {
      taken.merge(order.get(k - 1).requests(), 1, Integer::sum);
      for (Map.Entry<Resources, List<SchedulingPod>> e : byShape.entrySet()) {
        double share = (double) k * e.getValue().size() / order.size();
        assertThat((double) taken.getOrDefault(e.getKey(), 0)).as("%s after %d of %d", e.getKey(), k, order.size()).isCloseTo(share,
            offset(1.0));
      }
    }
  }

  /** A counterexample CI found for a divisor method: three of one shape, two of another, six of one each. */
  @Example
  void aShapeAheadOfItsShareWaitsAlthoughItsTurnCameByTheDivisor() {
    List<SchedulingPod> batch = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      batch.add(Sim.of(Sim.pod("big-" + i, "4", "16Gi").build()));
    }
    for (int i = 0; i < 2; i++) {
      batch.add(Sim.of(Sim.pod("mid-" + i, "2", "1Gi").build()));
    }
    for (int i = 0; i < 6; i++) {
      batch.add(Sim.of(Sim.pod("one-" + i, (100 + i) + "m", "128Mi").build()));
    }
    // After three pods the big shape's share is 3·3/11 = 0.82: it may have had one, not two.
    assertThat(SchedulingPod.packingOrder(batch).subList(0, 3)).extracting(SchedulingPod::name).filteredOn(n -> n.startsWith("big-"))
        .hasSize(1);
  }

  @Example
  void oneShapeKeepsKarpentersOrder() {
    List<SchedulingPod> batch = batch(new Random(1), 1, 50);
    List<SchedulingPod> karpenter = new ArrayList<>(batch);
    karpenter.sort(SchedulingPod.PACKING_ORDER);
    assertThat(SchedulingPod.packingOrder(batch)).containsExactlyElementsOf(karpenter);
  }

  @Example
  void cpuHeavyAndMemoryHeavyPodsTakeTurnsTheLargerFirst() {
    List<SchedulingPod> batch = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      batch.add(Sim.of(Sim.pod("mem-" + i, "250m", "6Gi").build()));
      batch.add(Sim.of(Sim.pod("cpu-" + i, "2", "1Gi").build()));
    }
    assertThat(SchedulingPod.packingOrder(batch)).extracting(SchedulingPod::name)
        .containsExactly("cpu-0", "mem-0", "cpu-1", "mem-1", "cpu-2", "mem-2");
  }
}
