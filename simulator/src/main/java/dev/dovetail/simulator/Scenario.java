package dev.dovetail.simulator;

import dev.dovetail.api.interruption.NodeMarks;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * What the spot-savings simulation plays out: a cluster's workloads and how their demand moves over the
 * period, the NodePool's instance types, the spot market's interruptions and shortages, and Dovetail's
 * timings.
 *
 * @param period how long the simulation runs
 * @param seed the random seed: one seed, one history (every strategy sees the same market)
 * @param workloads the Deployments, each under its distribution rule
 * @param zones the Availability Zones the NodePool may use
 * @param instanceTypes the NodePool's instance types; empty for current-generation c, m and r types up to 16 vCPU (amd64)
 * @param timings how fast Dovetail and the cloud act
 * @param market the spot market's shortages
 */
public record Scenario(Duration period, long seed, List<WorkloadSpec> workloads, List<String> zones, List<String> instanceTypes, Timings timings,
    Market market) {

  /**
   * A Deployment: pods of one shape whose replica count follows a day's curve between {@code min} at night
   * and {@code max} at the day's peak (14:00 UTC), or, with {@code steps}, is set at given times.
   *
   * @param spotPercent the spot share its rule asks for (the rule's {@code distribution.spot})
   */
  public record WorkloadSpec(String name, int cpuMillis, int memoryMiB, int min, int max, int spotPercent, List<Step> steps) {
    public WorkloadSpec {
      steps = List.copyOf(steps);
    }

    /** A workload on the day's curve. */
    public WorkloadSpec(String name, int cpuMillis, int memoryMiB, int min, int max, int spotPercent) {
      this(name, cpuMillis, memoryMiB, min, max, spotPercent, List.of());
    }

    /** A workload whose replicas are set at the steps' times. */
    public static WorkloadSpec stepped(String name, int cpuMillis, int memoryMiB, int spotPercent, List<Step> steps) {
      int max = steps.stream().mapToInt(Step::replicas).max().orElse(0);
      int min = steps.stream().mapToInt(Step::replicas).min().orElse(0);
      return new WorkloadSpec(name, cpuMillis, memoryMiB, min, max, spotPercent, steps);
    }
  }

  /** From {@code at} (after the period began) the workload asks for {@code replicas}. */
  public record Step(Duration at, int replicas) {
  }

  /**
   * @param boot from launch to a Ready node
   * @param batch how long the provisioner gathers pending pods before it simulates (Karpenter's idle batch: a second)
   * @param disruptionEvery how often a disruption pass runs when nothing triggers one (Karpenter polls every 10 s)
   * @param validation how long a disruption command waits before it is carried out
   * @param consolidateAfter how long a node must see no pod come or go before consolidation looks at it
   * @param reverseFallbackInterval the ClusterOrchestratorConfig's {@code reverseFallback.retryInterval}
   * @param unavailableTtl how long an offering that failed stays out of the scheduler's options (Karpenter's 3 minutes)
   * @param notice a spot interruption's warning (two minutes): the node is billed until it ends
   * @param drainMargin how long before the warning ends the drain must be done (the interrupt listener's {@code --drain-margin})
   * @param evictionLead how long before the drain's deadline its evictions start at the latest while the replacement launched for
   *     the node's pods boots (the listener's {@code --eviction-lead}); zero drains at once, as Karpenter does
   */
  public record Timings(Duration boot, Duration batch, Duration disruptionEvery, Duration validation, Duration consolidateAfter,
      Duration reverseFallbackInterval, Duration unavailableTtl, Duration notice, Duration drainMargin, Duration evictionLead) {
  }

  /**
   * @param poolShortagesPerDay how often one spot pool (type and zone) runs out of capacity, per day, at the best
   *     interruption bucket; each worse bucket adds as much again
   * @param poolShortage how long a pool's shortage lasts on average
   * @param outages spot unavailable across every pool the NodePool may use (all of spot gone for a while)
   */
  public record Market(double poolShortagesPerDay, Duration poolShortage, List<Outage> outages) {
    public Market {
      outages = List.copyOf(outages);
    }

    /** No shortages at all. */
    public static final Market QUIET = new Market(0, Duration.ofHours(1), List.of());
  }

  /**
   * No spot offering has capacity from {@code start} (after the period began) for {@code length}; with
   * {@code reclaim}, every running spot node gets its interruption warning as it starts.
   */
  public record Outage(Duration start, Duration length, boolean reclaim) {
  }

  public Scenario {
    workloads = List.copyOf(workloads);
    zones = List.copyOf(zones);
    instanceTypes = List.copyOf(instanceTypes);
  }

  /**
   * Dovetail's defaults: a minute's boot, a second's batch, a pass every 10 s, 15 s validation, 1m consolidateAfter, 30m interval,
   * a 15 s drain margin and a 45 s eviction lead.
   */
  public static final Timings DEFAULT_TIMINGS = new Timings(Duration.ofSeconds(60), Duration.ofSeconds(1), Duration.ofSeconds(10),
      Duration.ofSeconds(15), Duration.ofMinutes(1), Duration.ofMinutes(30), Duration.ofMinutes(3), Duration.ofMinutes(2), Duration.ofSeconds(15),
      NodeMarks.DEFAULT_EVICTION_LEAD);

  /**
   * The default week: six web and worker Deployments, every replica spot-ready (a 100 % spot rule), in three
   * zones; pools run short now and then, and twice all of spot is reclaimed (three hours on day two, six on day
   * five).
   */
  public static Scenario week(long seed) {
    return new Scenario(Duration.ofDays(7), seed, List.of(
        new WorkloadSpec("web", 500, 1024, 12, 48, 100),
        new WorkloadSpec("api", 1000, 2048, 8, 30, 100),
        new WorkloadSpec("checkout", 250, 512, 6, 24, 100),
        new WorkloadSpec("search", 2000, 4096, 4, 16, 100),
        new WorkloadSpec("worker", 1500, 3072, 4, 20, 100),
        new WorkloadSpec("cache", 500, 6144, 3, 6, 100)),
        List.of("us-east-1a", "us-east-1b", "us-east-1c"), List.of(), DEFAULT_TIMINGS,
        new Market(0.5, Duration.ofHours(1), List.of(new Outage(Duration.ofHours(36), Duration.ofHours(3), true),
            new Outage(Duration.ofHours(106), Duration.ofHours(6), true))));
  }

  /** The spot outage of {@link #replay}: all of spot unavailable from 1m30s for two minutes. */
  public static final Outage REPLAY_OUTAGE = new Outage(Duration.ofSeconds(90), Duration.ofSeconds(120), false);

  /**
   * The scenario the simulation is checked against reality with, short enough to play on a local control
   * plane: one Deployment of 500m/512Mi replicas, all on spot by its rule, on c6a.large and xlarge in
   * us-east-1a; 8 replicas, 16 at 1m30s as spot runs out for two minutes (the new ones fall back), back to 6
   * at 5m30s, 7m30s in all. Timings as the provisioner runs in the E2E tests: nodes Ready within seconds (kwok),
   * a 2 s validation, consolidateAfter 30s, reverse fallback every minute, offerings unavailable for 10 s.
   */
  public static Scenario replay() {
    return new Scenario(Duration.ofSeconds(450), 1, List.of(WorkloadSpec.stepped("web", 500, 512, 100, List.of(new Step(Duration.ZERO, 8),
        new Step(Duration.ofSeconds(90), 16), new Step(Duration.ofSeconds(330), 6)))), List.of("us-east-1a"),
        List.of("c6a.large", "c6a.xlarge"), new Timings(Duration.ofSeconds(2), Duration.ofSeconds(1), Duration.ofSeconds(10),
            Duration.ofSeconds(2), Duration.ofSeconds(30), Duration.ofMinutes(1), Duration.ofSeconds(10), Duration.ofMinutes(2),
            Duration.ofSeconds(15), NodeMarks.DEFAULT_EVICTION_LEAD),
        new Market(0, Duration.ofHours(1), List.of(REPLAY_OUTAGE)));
  }

  /** This scenario with every rule asking for {@code spotPercent} % spot. */
  public Scenario withSpotPercent(int spotPercent) {
    return new Scenario(period, seed, workloads.stream().map(w -> new WorkloadSpec(w.name(), w.cpuMillis(), w.memoryMiB(), w.min(), w.max(),
        spotPercent, w.steps())).toList(), zones, instanceTypes, timings, market);
  }

  /** This scenario over another period, the outages that no longer fit left out. */
  public Scenario withPeriod(Duration length) {
    return new Scenario(length, seed, workloads, zones, instanceTypes, timings, new Market(market.poolShortagesPerDay(), market.poolShortage(),
        market.outages().stream().filter(o -> o.start().plus(o.length()).compareTo(length) <= 0).toList()));
  }

  /** This scenario without its outages of all spot (its pool shortages stay). */
  public Scenario withoutOutages() {
    return new Scenario(period, seed, workloads, zones, instanceTypes, timings, new Market(market.poolShortagesPerDay(), market.poolShortage(),
        List.of()));
  }

  /** This scenario with other seed. */
  public Scenario withSeed(long other) {
    return new Scenario(period, other, workloads, zones, instanceTypes, timings, market);
  }

  /** This scenario with its timings changed. */
  public Scenario withTimings(UnaryOperator<Timings> change) {
    return new Scenario(period, seed, workloads, zones, instanceTypes, change.apply(timings), market);
  }
}
