package dev.dovetail.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.catalog.InstanceType;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class SpotSimulationTest {
  private static final List<String> ZONES = List.of("us-east-1a", "us-east-1b", "us-east-1c");

  /** A quiet market (no pool shortages) with these outages, one workload of {@code replicas} replicas all day. */
  private static Scenario scenario(Duration period, int replicas, int spotPercent, List<Scenario.Outage> outages) {
    return new Scenario(period, 3, List.of(new Scenario.WorkloadSpec("web", 500, 1024, replicas, replicas, spotPercent)), ZONES, List.of(),
        Scenario.DEFAULT_TIMINGS, new Scenario.Market(0, Duration.ofHours(1), outages));
  }

  @Test
  void theDayCurveRunsFromTheNightsMinimumToTheMaximumAtTwoInTheAfternoon() {
    Scenario.WorkloadSpec w = new Scenario.WorkloadSpec("web", 500, 1024, 4, 40, 100);
    assertThat(SpotSimulation.replicas(w, Instant.parse("2026-11-30T14:00:00Z"))).isEqualTo(40);
    assertThat(SpotSimulation.replicas(w, Instant.parse("2026-11-30T02:00:00Z"))).isEqualTo(4);
    assertThat(SpotSimulation.replicas(w, Instant.parse("2026-11-30T08:00:00Z"))).isEqualTo(22);
  }

  @Test
  void aSteppedWorkloadAsksForItsLastStepsReplicasAndNoneBeforeItsFirst() {
    Scenario.WorkloadSpec w = Scenario.WorkloadSpec.stepped("web", 500, 512, 100, List.of(new Scenario.Step(Duration.ofSeconds(10), 8),
        new Scenario.Step(Duration.ofSeconds(90), 16)));
    assertThat(SpotSimulation.replicas(w, SpotSimulation.START.plusSeconds(5))).isZero();
    assertThat(SpotSimulation.replicas(w, SpotSimulation.START.plusSeconds(10))).isEqualTo(8);
    assertThat(SpotSimulation.replicas(w, SpotSimulation.START.plusSeconds(89))).isEqualTo(8);
    assertThat(SpotSimulation.replicas(w, SpotSimulation.START.plusSeconds(3600))).isEqualTo(16);
    assertThat(w.min()).isEqualTo(8);
    assertThat(w.max()).isEqualTo(16);
  }

  @Test
  void oneOnDemandReplicaCostsItsNodeForThePeriodLessTheBatchAndWaitsTheBatchAndTheBoot() {
    Outcome o = new SpotSimulation(scenario(Duration.ofHours(2), 1, 0, List.of()), Strategy.ON_DEMAND).run();
    // The cheapest on-demand type of the pool (c, m or r, generation 5 or later, amd64, up to 16 vCPU) in its zones holds one small pod.
    double cheapest = Catalog.bundled().all().stream()
        .filter(t -> List.of("c", "m", "r").contains(t.category()) && t.generation() > 4 && t.vcpu() < 17 && (t.architectures().contains("amd64") || t.architectures().contains("x86_64"))
            && t.capacityTypes().contains(CapacityType.ON_DEMAND))
        .flatMap(t -> t.zones().stream().filter(ZONES::contains).map(z -> t.pricePerHour(CapacityType.ON_DEMAND, z)))
        .min(Double::compare).orElseThrow();
    double hours = (2 * 3600 - 1) / 3600.0;
    assertThat(o.cost()).isCloseTo(cheapest * hours, within(1e-9));
    assertThat(o.costSeries().stream().mapToDouble(Double::doubleValue).sum()).isCloseTo(o.cost(), within(1e-9));
    assertThat(o.pendingSeconds()).isCloseTo(61, within(1e-6));
    assertThat(o.pendingPodSeconds()).containsOnlyKeys(Outcome.PendingCause.NEW);
    assertThat(o.podSeconds()).isCloseTo(2 * 3600, within(1e-6));
    assertThat(o.spotShare()).isZero();
    assertThat(o.fallbacks()).isZero();
  }

  @Test
  void spotReplicasFallBackDuringAnOutageAndReverseFallbackBringsThemAllBackWithinTwoIntervals() {
    Scenario s = scenario(Duration.ofHours(8), 12, 100, List.of(new Scenario.Outage(Duration.ofHours(1), Duration.ofHours(2), true)));
    Outcome dovetail = new SpotSimulation(s, Strategy.COST_OPTIMIZED).run();
    assertThat(dovetail.fallbacks()).as("claims launched on on-demand in place of spot").isPositive();
    assertThat(dovetail.fallenBack()).as("replicas on fallback capacity as the outage ended").isEqualTo(12);
    assertThat(dovetail.stillAsked()).isEqualTo(12);
    assertThat(dovetail.backWithinTwoIntervals()).as("back on spot within two intervals").isEqualTo(12);
    assertThat(dovetail.reverseFallbacks()).isPositive();

    // Karpenter alone falls back too, but nothing but consolidation brings the replicas back: it costs more than Dovetail.
    Outcome karpenter = new SpotSimulation(s, Strategy.KARPENTER).run();
    Outcome onDemand = new SpotSimulation(s, Strategy.ON_DEMAND).run();
    assertThat(dovetail.cost()).isLessThan(onDemand.cost());
    assertThat(dovetail.spotShare()).isGreaterThan(0.6);
    assertThat(karpenter.reverseFallbacks()).isZero();
  }

  @Test
  void underDovetailAReclaimedNodesReplicasRunOnUntilTheirReplacementIsReadyWhileKarpenterDrainsAtOnce() {
    // All of spot reclaimed after an hour (every spot node warned two minutes ahead), for an hour.
    Scenario s = scenario(Duration.ofHours(3), 12, 100, List.of(new Scenario.Outage(Duration.ofHours(1), Duration.ofHours(1), true)));
    Outcome held = new SpotSimulation(s, Strategy.COST_OPTIMIZED).run();
    Outcome atOnce = new SpotSimulation(s.withTimings(t -> new Scenario.Timings(t.boot(), t.batch(), t.disruptionEvery(), t.validation(),
        t.consolidateAfter(), t.reverseFallbackInterval(), t.unavailableTtl(), t.notice(), t.drainMargin(), Duration.ZERO)), Strategy.COST_OPTIMIZED).run();
    Outcome karpenter = new SpotSimulation(s, Strategy.KARPENTER).run();
    int interrupted = held.totalInterruptions();
    assertThat(interrupted).as("replicas on reclaimed nodes").isGreaterThanOrEqualTo(12);
    assertThat(atOnce.totalInterruptions()).isEqualTo(interrupted);
    double boot = s.timings().boot().toSeconds();
    // Drained at once, each interrupted replica waits at least a node's boot for its new capacity.
    assertThat(atOnce.pendingPodSeconds().get(Outcome.PendingCause.INTERRUPTED)).isGreaterThanOrEqualTo(interrupted * boot);
    assertThat(karpenter.pendingPodSeconds().get(Outcome.PendingCause.INTERRUPTED)).isGreaterThanOrEqualTo(karpenter.totalInterruptions() * boot);
    // Held while their replacement boots (launched at the warning, on-demand once the provisioner has found all of spot gone), they
    // wait only for what the boot overruns the latest start: a quarter of the wait of a drain at once is plenty.
    assertThat(held.pendingPodSeconds().getOrDefault(Outcome.PendingCause.INTERRUPTED, 0.0))
        .isLessThan(atOnce.pendingPodSeconds().get(Outcome.PendingCause.INTERRUPTED) / 4);
    assertThat(held.cost()).isLessThanOrEqualTo(atOnce.cost() * 1.01);
  }

  @Test
  void theMarketsShortagesAreTheSameForEveryStrategyAndFollowTheSeed() {
    Scenario s = Scenario.week(5).withPeriod(Duration.ofDays(1));
    assertThat(SpotSimulation.shortages(s)).isEqualTo(SpotSimulation.shortages(Scenario.week(5).withPeriod(Duration.ofDays(1))))
        .isNotEqualTo(SpotSimulation.shortages(Scenario.week(6).withPeriod(Duration.ofDays(1))));
    // Worse interruption buckets run short more often: a >20 % type's pools have more shortages than a <5 % type's on average.
    List<SpotSimulation.Shortage> all = SpotSimulation.shortages(Scenario.week(5));
    double worst = perPool(all, "OVER_20");
    double best = perPool(all, "UNDER_5");
    assertThat(worst).isGreaterThan(2 * best);
  }

  private static double perPool(List<SpotSimulation.Shortage> shortages, String bucket) {
    List<InstanceType> types = Catalog.bundled().all().stream()
        .filter(t -> t.capacityTypes().contains(CapacityType.SPOT) && t.interruption().map(Enum::name).orElse("").equals(bucket)).toList();
    long pools = types.stream().mapToLong(t -> t.zones().stream().filter(ZONES::contains).count()).sum();
    long count = shortages.stream().filter(s -> s.type() != null && types.stream().anyMatch(t -> t.name().equals(s.type()))).count();
    return (double) count / pools;
  }
}
