package dev.dovetail.api.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class DistributionTest {
  private static final DistributionRule SEVENTY_THIRTY = DistributionRule.of(70, 0, Selector.SpotReady);

  @Test
  void documentedExample() {
    // N = 10, B = 2, P = 30: 2 + ceil(8 * 0.3) = 2 + 3 = 5 on-demand, 5 spot.
    assertThat(Distribution.targets(DistributionRule.of(70, 2, Selector.All), 10)).isEqualTo(new Targets(5, 5));
    assertThat(Distribution.targets(SEVENTY_THIRTY, 20)).isEqualTo(new Targets(6, 14));
    assertThat(Distribution.targets(SEVENTY_THIRTY, 1)).isEqualTo(new Targets(1, 0));
  }

  @Test
  void spotReadyKeepsSingleReplicasOnOnDemandButAllDoesNot() {
    Placement single = Distribution.next(DistributionRule.of(100, 0, Selector.SpotReady), 1, ReplicaCounts.NONE, OptionalInt.empty());
    assertThat(single.allowed()).containsExactlyInAnyOrder(CapacityType.ON_DEMAND, CapacityType.RESERVED);
    assertThat(single.reason()).contains("SpotReady");

    Placement all = Distribution.next(DistributionRule.of(100, 0, Selector.All), 1, ReplicaCounts.NONE, OptionalInt.empty());
    assertThat(all.allowed()).containsExactly(CapacityType.SPOT);
  }

  @Test
  void replicaMayUseAnyTypeStillShortOfTargetAndPrefersTheLargerDeficit() {
    Placement first = Distribution.next(SEVENTY_THIRTY, 10, ReplicaCounts.NONE, OptionalInt.empty());
    assertThat(first.allowed()).contains(CapacityType.SPOT, CapacityType.ON_DEMAND);
    assertThat(first.preferred()).contains(CapacityType.SPOT);

    Placement onDemandFull = Distribution.next(SEVENTY_THIRTY, 10, new ReplicaCounts(0, 3, 0), OptionalInt.empty());
    assertThat(onDemandFull.allowed()).containsExactly(CapacityType.SPOT);
    assertThat(onDemandFull.reason()).contains("spot only").contains("target 7 spot / 3 on-demand of 10");

    Placement tie = Distribution.next(DistributionRule.of(50, 0, Selector.All), 2, ReplicaCounts.NONE, OptionalInt.empty());
    assertThat(tie.preferred()).contains(CapacityType.ON_DEMAND);
  }

  @Test
  void fallbackReplicasHoldSpotPlaces() {
    // 7 spot places are taken, 4 by replicas that fell back to on-demand: the next one must be on-demand.
    Placement next = Distribution.next(SEVENTY_THIRTY, 10, new ReplicaCounts(3, 0, 4), OptionalInt.empty());
    assertThat(next.allowed()).containsExactlyInAnyOrder(CapacityType.ON_DEMAND, CapacityType.RESERVED);
  }

  @Test
  void statefulSetLowOrdinalsRunOnOnDemand() {
    List<CapacityType> byOrdinal = new ArrayList<>();
    for (int ordinal = 0; ordinal < 10; ordinal++) {
      byOrdinal.add(Distribution.next(SEVENTY_THIRTY, 10, ReplicaCounts.NONE, OptionalInt.of(ordinal)).preferred().orElseThrow());
    }
    assertThat(byOrdinal.subList(0, 3)).containsOnly(CapacityType.ON_DEMAND);
    assertThat(byOrdinal.subList(3, 10)).containsOnly(CapacityType.SPOT);
  }

  @Test
  void surgeReplicasFollowTheSplit() {
    // 10 desired, all 10 placed exactly on target, a surge pod arrives: it is the 11th replica.
    Placement surge = Distribution.next(SEVENTY_THIRTY, 10, new ReplicaCounts(7, 3, 0), OptionalInt.empty());
    assertThat(surge.targets()).isEqualTo(Distribution.targets(SEVENTY_THIRTY, 11));
    assertThat(surge.allowed()).isNotEmpty();
  }

  @Test
  void invalidRulesAreRefused() {
    assertThatThrownBy(() -> DistributionRule.of(120, 0, Selector.All)).hasMessageContaining("add up to 100");
    assertThatThrownBy(() -> DistributionRule.of(70, -1, Selector.All)).hasMessageContaining("must not be negative");
  }

  @Property(tries = 2000)
  void placingEveryReplicaReachesTheTargetExactly(@ForAll @IntRange(min = 1, max = 200) int replicas,
      @ForAll @IntRange(min = 0, max = 100) int spotPercent, @ForAll @IntRange(min = 0, max = 210) int base,
      @ForAll boolean spotReady, @ForAll long seed) {
    DistributionRule rule = DistributionRule.of(spotPercent, base, spotReady ? Selector.SpotReady : Selector.All);
    Random random = new Random(seed);
    ReplicaCounts placed = ReplicaCounts.NONE;
    for (int i = 0; i < replicas; i++) {
      Placement p = Distribution.next(rule, replicas, placed, OptionalInt.empty());
      // The scheduler may land a replica on any allowed type, not only the preferred one.
      List<CapacityType> choices = new ArrayList<>(p.allowed());
      choices.sort(null);
      CapacityType chosen = choices.get(random.nextInt(choices.size()));
      assertThat(p.allowed()).contains(p.preferred().orElseThrow());
      placed = placed.plus(chosen);
    }
    Targets target = Distribution.targetsFor(rule, replicas);
    assertThat(placed.spot()).as("spot within one replica of target").isBetween(target.spot() - 1, target.spot() + 1);
    assertThat(placed.spot()).as("exact, in fact").isEqualTo(target.spot());
    assertThat(placed.onDemand()).as("base on-demand honoured").isGreaterThanOrEqualTo(Math.min(base, replicas));
    if (spotPercent == 0 || (spotReady && replicas == 1)) {
      assertThat(placed.spot()).isZero();
    }
  }

  @Property
  void onDemandRoundsUp(@ForAll @IntRange(min = 1, max = 500) int replicas, @ForAll @IntRange(min = 0, max = 100) int spotPercent,
      @ForAll @IntRange(min = 0, max = 50) int base) {
    Targets t = Distribution.targets(DistributionRule.of(spotPercent, base, Selector.All), replicas);
    int b = Math.min(base, replicas);
    double exactOnDemand = b + (replicas - b) * (100 - spotPercent) / 100.0;
    assertThat(t.onDemand()).isGreaterThanOrEqualTo((int) Math.ceil(exactOnDemand - 1e-9)).isLessThan((int) exactOnDemand + 2);
    assertThat(t.total()).isEqualTo(replicas);
  }

  @Property
  void statefulSetOrdinalsSplitExactly(@ForAll @IntRange(min = 2, max = 100) int replicas, @ForAll @IntRange(min = 0, max = 100) int spotPercent,
      @ForAll @IntRange(min = 0, max = 10) int base) {
    DistributionRule rule = DistributionRule.of(spotPercent, base, Selector.SpotReady);
    int onDemand = 0;
    for (int ordinal = 0; ordinal < replicas; ordinal++) {
      if (!Distribution.next(rule, replicas, ReplicaCounts.NONE, OptionalInt.of(ordinal)).preferred().orElseThrow().isSpot()) {
        onDemand++;
      }
    }
    assertThat(onDemand).isEqualTo(Distribution.targets(rule, replicas).onDemand());
  }
}
