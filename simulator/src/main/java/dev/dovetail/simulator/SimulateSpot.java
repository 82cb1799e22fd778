package dev.dovetail.simulator;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code scripts/simulate-spot}: the scenario run once per strategy, a table, the targets checked, a PNG chart. */
@Command(name = "simulate-spot", mixinStandardHelpOptions = true,
    description = "Simulates a week of spot capacity through Dovetail's decision code, per strategy, and reports cost and savings.")
public final class SimulateSpot implements Callable<Integer> {
  @Option(names = "--days", description = "Days to simulate. Default: ${DEFAULT-VALUE}.")
  int days = 7;

  @Option(names = "--seed", description = "The market's random seed. Default: ${DEFAULT-VALUE}.")
  long seed = 1;

  @Option(names = "--spot-percent", description = "The spot share every rule asks for. Default: ${DEFAULT-VALUE}.")
  int spotPercent = 100;

  @Option(names = "--scenario", description = "week (the default: --days, --seed and --spot-percent apply) or replay (the minutes the "
      + "simulation is checked against the local control plane with).")
  String scenarioName = "week";

  @Option(names = "--no-outages", description = "The week without its two outages of all spot (pool shortages and single interruptions "
      + "stay).")
  boolean noOutages;

  @Option(names = "--trace", description = "Print every launch, interruption and disruption command of the CostOptimized run.")
  boolean trace;

  @Option(names = "--png", description = "Where the chart goes. Default: ${DEFAULT-VALUE}.")
  File png = new File("target/simulate-spot.png");

  /** The targets of the spot orchestration issue. */
  static final double SAVING_TARGET = 0.60;
  static final double PENDING_TARGET = 0.001;
  static final double BACK_TARGET = 0.95;

  public static void main(String[] args) {
    System.setProperty("java.awt.headless", "true");
    System.exit(new CommandLine(new SimulateSpot()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Scenario scenario = switch (scenarioName) {
      case "week" -> {
        Scenario week = Scenario.week(seed).withPeriod(Duration.ofDays(days)).withSpotPercent(spotPercent);
        yield noOutages ? week.withoutOutages() : week;
      }
      case "replay" -> Scenario.replay();
      default -> throw new CommandLine.ParameterException(new CommandLine(this), "--scenario: week or replay, not " + scenarioName);
    };
    List<Outcome> outcomes = new ArrayList<>();
    for (Strategy s : Strategy.values()) {
      long t0 = System.nanoTime();
      outcomes.add(new SpotSimulation(scenario, s, trace && s == Strategy.COST_OPTIMIZED ? System.out::println : line -> { }).run());
      System.err.printf(Locale.ROOT, "simulated %s in %.1f s%n", s.label(), (System.nanoTime() - t0) / 1e9);
    }
    Outcome baseline = outcomes.stream().filter(o -> o.strategy() == Strategy.ON_DEMAND).findFirst().orElseThrow();
    System.out.printf(Locale.ROOT, "Spot savings simulation, scenario %s%s, %s, seed %d, rules at %d %% spot; %s, %s%n%n", scenarioName,
        noOutages ? " without outages" : "", scenario.period(), scenario.seed(), scenario.workloads().get(0).spotPercent(), LocalDate.now(ZoneOffset.UTC), machine());
    System.out.println(table(outcomes, baseline));
    Outcome dovetail = outcomes.get(0);
    boolean saving = dovetail.savingsAgainst(baseline) >= SAVING_TARGET;
    boolean pending = dovetail.pendingShare() < PENDING_TARGET;
    boolean back = dovetail.backShare() >= BACK_TARGET;
    System.out.printf(Locale.ROOT, "%nTargets (CostOptimized): saving >= %.0f %%: %.2f %% %s; pod-time pending < %.1f %%: %.3f %% %s; "
        + "fallen-back replicas on spot within two intervals >= %.0f %%: %.1f %% (%d of %d) %s%n", SAVING_TARGET * 100,
        dovetail.savingsAgainst(baseline) * 100, saving ? "met" : "MISSED", PENDING_TARGET * 100, dovetail.pendingShare() * 100,
        pending ? "met" : "MISSED", BACK_TARGET * 100, dovetail.backShare() * 100, dovetail.backWithinTwoIntervals(), dovetail.stillAsked(),
        back ? "met" : "MISSED");
    png.getAbsoluteFile().getParentFile().mkdirs();
    CostChart.write(outcomes, scenario, png);
    System.out.println("chart: " + png.getPath());
    return 0;
  }

  static String table(List<Outcome> outcomes, Outcome baseline) {
    StringBuilder b = new StringBuilder();
    b.append("| strategy | cost $ | savings vs on-demand | spot share | pod-time pending (new / interrupted / moved) | interruptions (replicas) | by workload "
        + "| launches | replicas moved by disruption | fallbacks | reverse fallbacks | back on spot in 2 intervals |\n");
    b.append("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|\n");
    for (Outcome o : outcomes) {
      String byWorkload = o.interruptions().entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", "));
      b.append(String.format(Locale.ROOT, "| %s | %,.4f | %.1f %% | %.1f %% | %.3f %% (%.3f / %.3f / %.3f) | %d | %s | %d | %d | %d | %d | %s |%n", o.strategy().label(),
          o.cost(), o.savingsAgainst(baseline) * 100, o.spotShare() * 100, o.pendingShare() * 100, o.pendingShare(Outcome.PendingCause.NEW) * 100,
          o.pendingShare(Outcome.PendingCause.INTERRUPTED) * 100, o.pendingShare(Outcome.PendingCause.MOVED) * 100, o.totalInterruptions(),
          byWorkload.isEmpty() ? "-" : byWorkload, o.launches(), o.moved(), o.fallbacks(), o.reverseFallbacks(),
          o.stillAsked() == 0 ? "-" : String.format(Locale.ROOT, "%d / %d", o.backWithinTwoIntervals(), o.stillAsked())));
    }
    return b.toString();
  }

  private static String machine() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (Exception e) {
      host = "unknown host";
    }
    return String.format(Locale.ROOT, "%s, %d cores, Java %s", host, Runtime.getRuntime().availableProcessors(),
        ManagementFactory.getRuntimeMXBean().getSpecVersion());
  }
}
