package dev.dovetail.api.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec.Selector;
import dev.dovetail.testkit.RepoPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalInt;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * The distribution decision against the README: worked examples, and properties over random rules that
 * compare every decision with an oracle written here from the README's words (the on-demand figure
 * {@code min(B, N) + ceil((N - min(B, N)) x P / 100)} counted out by brute force, the deficit and ordinal
 * rules), never with the product's own {@code targets}. The oracle itself is checked against the README's table.
 */
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
  void invalidRulesAreRefused() {
    assertThatThrownBy(() -> DistributionRule.of(120, 0, Selector.All)).hasMessageContaining("add up to 100");
    assertThatThrownBy(() -> DistributionRule.of(70, -1, Selector.All)).hasMessageContaining("must not be negative");
  }

  // ---- The README's rules as an oracle written here, without the product's code ----------------------

  /** A rule as the tests draw it: spot percentage, base on-demand replicas, selector SpotReady or All. */
  record Rule(int spotPercent, int base, boolean spotReady) {
    DistributionRule product() {
      return DistributionRule.of(spotPercent, base, spotReady ? Selector.SpotReady : Selector.All);
    }

    int onDemandPercent() {
      return 100 - spotPercent;
    }

    @Override
    public String toString() {
      return "spot " + spotPercent + " % / on-demand " + onDemandPercent() + " %, base " + base + (spotReady ? ", SpotReady" : ", All");
    }
  }

  /** What the README says about the next replica: the types it may use, the one it should use, the split aimed for. */
  record Expected(boolean spotAllowed, boolean onDemandAllowed, boolean prefersSpot, int targetOnDemand, int targetSpot) {
  }

  /**
   * The README's figure: {@code min(B, N) + ceil((N - min(B, N)) x P / 100)} on-demand replicas, the
   * ceiling found by counting up to the least k with {@code 100 k >= (N - min(B, N)) x P}.
   */
  static int readmeOnDemand(int replicas, int base, int onDemandPercent) {
    int b = replicas < base ? replicas : base;
    int rest = replicas - b;
    int k = 0;
    while (100 * k < rest * onDemandPercent) {
      k++;
    }
    return b + k;
  }

  /** On-demand replicas of a workload of {@code replicas} once every one is placed, SpotReady applied. */
  static int readmeFinalOnDemand(Rule rule, int replicas) {
    return rule.spotReady() && replicas == 1 ? 1 : readmeOnDemand(replicas, rule.base(), rule.onDemandPercent());
  }

  /**
   * The README's placement rules, one replica at a time. A SpotReady workload that wants one replica stays on
   * on-demand. Otherwise the next replica aims at the split of {@code max(desired, placed + 1)} replicas (a
   * surge pod is one more replica); it may go to any type still short of its target, prefers the type
   * furthest below it, and a tie goes to on-demand. Replicas that fell back to on-demand hold spot places.
   * A StatefulSet's ordinals below the on-demand target run on on-demand, the others on spot.
   */
  static Expected readmeNext(Rule rule, int desired, int spot, int onDemand, int fallback, OptionalInt ordinal) {
    int placed = spot + onDemand + fallback;
    int n = Math.max(desired, placed + 1);
    if (rule.spotReady() && desired == 1) {
      return new Expected(false, true, false, n, 0);
    }
    if (ordinal.isPresent()) {
      n = Math.max(n, ordinal.getAsInt() + 1);
      int od = readmeOnDemand(n, rule.base(), rule.onDemandPercent());
      boolean onOnDemand = ordinal.getAsInt() < od;
      return new Expected(!onOnDemand, onOnDemand, !onOnDemand, od, n - od);
    }
    int od = readmeOnDemand(n, rule.base(), rule.onDemandPercent());
    int onDemandShort = od - onDemand;
    int spotShort = (n - od) - (spot + fallback);
    return new Expected(spotShort > 0, onDemandShort > 0, spotShort > onDemandShort, od, n - od);
  }

  static void assertMatches(Placement actual, Expected expected, String situation) {
    assertThat(actual.allowed().contains(CapacityType.SPOT)).as("spot allowed, %s (%s)", situation, actual.reason())
        .isEqualTo(expected.spotAllowed());
    assertThat(actual.allowed().contains(CapacityType.ON_DEMAND)).as("on-demand allowed, %s (%s)", situation, actual.reason())
        .isEqualTo(expected.onDemandAllowed());
    assertThat(actual.allowed().contains(CapacityType.RESERVED)).as("reserved (counts as on-demand) allowed, %s", situation)
        .isEqualTo(expected.onDemandAllowed());
    assertThat(actual.preferred()).as("preferred, %s (%s)", situation, actual.reason())
        .contains(expected.prefersSpot() ? CapacityType.SPOT : CapacityType.ON_DEMAND);
    assertThat(actual.targets()).as("targets, %s", situation).isEqualTo(new Targets(expected.targetOnDemand(), expected.targetSpot()));
  }

  @Provide
  Arbitrary<Rule> rule() {
    return Combinators.combine(Arbitraries.integers().between(0, 100), Arbitraries.integers().between(0, 45), Arbitraries.of(true, false))
        .as(Rule::new);
  }

  @Property(tries = 1000)
  void everyOrderOfAllowedPlacementsEndsOnTheReadmeSplit(@ForAll("rule") Rule rule, @ForAll @IntRange(min = 1, max = 40) int replicas,
      @ForAll long seed) {
    // Every sequence of choices the scheduler may make among the allowed types, as the set of (spot places,
    // on-demand) states it reaches after each replica; a spot place is randomly a spot replica or a fallback one.
    Random random = new Random(seed);
    Set<List<Integer>> layer = Set.of(List.of(0, 0));
    for (int i = 0; i < replicas; i++) {
      Set<List<Integer>> nextLayer = new HashSet<>();
      for (List<Integer> state : layer) {
        int spotPlaces = state.get(0);
        int onDemand = state.get(1);
        int fallback = spotPlaces == 0 ? 0 : random.nextInt(spotPlaces + 1);
        Placement p = Distribution.next(rule.product(), replicas, new ReplicaCounts(spotPlaces - fallback, onDemand, fallback), OptionalInt.empty());
        String situation = rule + ", " + replicas + " replicas, placed " + (spotPlaces - fallback) + " spot + " + fallback + " fallback / "
            + onDemand + " on-demand";
        assertMatches(p, readmeNext(rule, replicas, spotPlaces - fallback, onDemand, fallback, OptionalInt.empty()), situation);
        if (p.allows(CapacityType.SPOT)) {
          nextLayer.add(List.of(spotPlaces + 1, onDemand));
        }
        if (p.allows(CapacityType.ON_DEMAND) || p.allows(CapacityType.RESERVED)) {
          nextLayer.add(List.of(spotPlaces, onDemand + 1));
        }
      }
      layer = nextLayer;
    }
    int onDemand = readmeFinalOnDemand(rule, replicas);
    assertThat(layer).as("%s, %d replicas: every order of allowed choices ends on %d spot / %d on-demand", rule, replicas,
        replicas - onDemand, onDemand).containsExactly(List.of(replicas - onDemand, onDemand));
  }

  @Property(tries = 3000)
  void anyReplicaCountsIncludingSurgeGetTheReadmeDecision(@ForAll("rule") Rule rule, @ForAll @IntRange(min = 1, max = 60) int desired,
      @ForAll @IntRange(min = 0, max = 70) int spot, @ForAll @IntRange(min = 0, max = 70) int onDemand,
      @ForAll @IntRange(min = 0, max = 20) int fallback) {
    Placement p = Distribution.next(rule.product(), desired, new ReplicaCounts(spot, onDemand, fallback), OptionalInt.empty());
    assertMatches(p, readmeNext(rule, desired, spot, onDemand, fallback, OptionalInt.empty()),
        rule + ", " + desired + " desired, placed " + spot + " spot + " + fallback + " fallback / " + onDemand + " on-demand");
  }

  @Property(tries = 1000)
  void statefulSetOrdinalsBelowTheOnDemandTargetRunOnOnDemand(@ForAll("rule") Rule rule, @ForAll @IntRange(min = 1, max = 60) int replicas,
      @ForAll long seed) {
    Random random = new Random(seed);
    List<Integer> onDemandOrdinals = new ArrayList<>();
    for (int ordinal = 0; ordinal < replicas; ordinal++) {
      // The other replicas, wherever they are (fewer than desired): an ordinal's type does not depend on them.
      int others = random.nextInt(replicas);
      int spot = random.nextInt(others + 1);
      int fallback = random.nextInt(others - spot + 1);
      Placement p = Distribution.next(rule.product(), replicas, new ReplicaCounts(spot, others - spot - fallback, fallback), OptionalInt.of(ordinal));
      assertMatches(p, readmeNext(rule, replicas, spot, others - spot - fallback, fallback, OptionalInt.of(ordinal)),
          rule + ", " + replicas + " replicas, ordinal " + ordinal);
      if (!p.allows(CapacityType.SPOT)) {
        onDemandOrdinals.add(ordinal);
      }
    }
    int onDemand = readmeFinalOnDemand(rule, replicas);
    assertThat(onDemandOrdinals).as("%s, %d replicas: the on-demand ordinals are the lowest %d", rule, replicas, onDemand)
        .isEqualTo(IntStream.range(0, onDemand).boxed().toList());
  }

  @Property(tries = 500)
  void statefulSetOrdinalsBeyondTheDesiredCountAimAtTheLargerSplit(@ForAll("rule") Rule rule, @ForAll @IntRange(min = 1, max = 30) int desired,
      @ForAll @IntRange(min = 0, max = 40) int ordinal, @ForAll @IntRange(min = 0, max = 40) int spot,
      @ForAll @IntRange(min = 0, max = 40) int onDemand) {
    Placement p = Distribution.next(rule.product(), desired, new ReplicaCounts(spot, onDemand, 0), OptionalInt.of(ordinal));
    assertMatches(p, readmeNext(rule, desired, spot, onDemand, 0, OptionalInt.of(ordinal)),
        rule + ", " + desired + " desired, ordinal " + ordinal + ", placed " + spot + " spot / " + onDemand + " on-demand");
  }

  @Property(tries = 300)
  void aSpotReadySingleReplicaIsNeverSentToSpot(@ForAll @IntRange(min = 0, max = 100) int spotPercent, @ForAll @IntRange(min = 0, max = 5) int base,
      @ForAll @IntRange(min = 0, max = 3) int spot, @ForAll @IntRange(min = 0, max = 3) int onDemand, @ForAll boolean statefulSet) {
    Placement p = Distribution.next(DistributionRule.of(spotPercent, base, Selector.SpotReady), 1, new ReplicaCounts(spot, onDemand, 0),
        statefulSet ? OptionalInt.of(0) : OptionalInt.empty());
    assertThat(p.allowed()).containsExactlyInAnyOrder(CapacityType.ON_DEMAND, CapacityType.RESERVED);
    assertThat(p.preferred()).contains(CapacityType.ON_DEMAND);
  }

  @Test
  void theOracleReproducesTheReadmeTable() throws IOException {
    // The oracle above is checked against the figures the README prints, so it cannot drift from the documentation.
    String readme = Files.readString(RepoPaths.root().resolve("README.md"));
    Matcher table = Pattern.compile("(?s)<!-- distribution-table:begin -->\\n(.*?)<!-- distribution-table:end -->").matcher(readme);
    assertThat(table.find()).isTrue();
    Matcher row = Pattern.compile("(?m)^\\| (\\d+) \\| (\\d+) \\| (\\d+) \\| (\\d+) \\| (\\d+) \\|$").matcher(table.group(1));
    int rows = 0;
    while (row.find()) {
      int n = Integer.parseInt(row.group(1));
      int base0 = readmeFinalOnDemand(new Rule(70, 0, true), n);
      int base2 = readmeFinalOnDemand(new Rule(70, 2, true), n);
      assertThat(List.of(n - base0, base0, n - base2, base2)).as("README row for %d replicas", n)
          .isEqualTo(List.of(Integer.parseInt(row.group(2)), Integer.parseInt(row.group(3)), Integer.parseInt(row.group(4)),
              Integer.parseInt(row.group(5))));
      rows++;
    }
    assertThat(rows).isEqualTo(20);
  }
}
