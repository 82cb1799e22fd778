package dev.dovetail.provisioner.metrics;

import dev.dovetail.runtime.Metrics;
import dev.dovetail.runtime.Version;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Meters under Karpenter's metric names and labels, so its dashboards and alerts work unchanged
 * (Micrometer adds the {@code _total} and {@code _seconds} suffixes Prometheus expects).
 */
public final class KarpenterMetrics {
  private final MeterRegistry registry;
  /** Values behind gauges with labels, by their label values. */
  private final Map<List<String>, AtomicInteger> gauges = new ConcurrentHashMap<>();

  /**
   * Stand-in names of meters whose Karpenter names the Prometheus client will not register (ending in
   * {@code _created_total}, or {@code _total} on a gauge); {@code OpsServer.withRenames} restores the real names in scrapes.
   */
  public static final Map<String, String> RENAMES = Map.of(
      "karpenter_nodeclaims_creations_total", "karpenter_nodeclaims_created_total",
      "karpenter_nodes_creations_total", "karpenter_nodes_created_total",
      "karpenter_nodepools_cost", "karpenter_nodepools_cost_total");

  public KarpenterMetrics(MeterRegistry registry) {
    this.registry = registry;
    // Karpenter's build_info: Go's version and architecture become the JVM's.
    Gauge.builder("karpenter.build.info", () -> 1).description("A metric with a constant '1' value labeled by version from which karpenter was built.")
        .tag("version", Version.of(KarpenterMetrics.class)).tag("goversion", "java" + Runtime.version().feature())
        .tag("goarch", System.getProperty("os.arch", "")).tag("commit", "").register(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  public void nodeClaimCreated(String reason, String nodePool) {
    Counter.builder("karpenter.nodeclaims.creations").description("Number of nodeclaims created in total by Karpenter.")
        .tag("reason", reason).tag("nodepool", nodePool).tag("min_values_relaxed", "false").register(registry).increment();
  }

  /** Dovetail's own: a NodeClaim launched on on-demand capacity standing in for spot the replicas could not get. */
  public void capacityFallback(String nodePool) {
    Counter.builder("dovetail.capacity.fallback").description("NodeClaims launched on on-demand capacity in place of unavailable spot.")
        .tag("nodepool", nodePool).register(registry).increment();
  }

  /** Dovetail's own: a reverse fallback (fallback capacity replaced with spot) that ended, as it ended. */
  public void reverseFallback(String nodePool, boolean succeeded) {
    Counter.builder("dovetail.reverse.fallback").description("Reverse fallbacks to spot that ended, by result (succeeded or failed).")
        .tag("nodepool", nodePool).tag("result", succeeded ? "succeeded" : "failed").register(registry).increment();
  }

  /**
   * A NodeClaim launched. Its termination series starts at 0 here, so the first termination of a capacity type in a zone
   * is an increase a dashboard's {@code increase()} or {@code rate()} sees (a series born at 1 shows none).
   */
  public void nodeClaimLaunched(String nodePool, String capacityType, String zone) {
    Counter.builder("karpenter.nodeclaims.launched").description("Number of nodeclaims launched in total by Karpenter.")
        .tag("nodepool", nodePool).register(registry).increment();
    claimsTerminated(nodePool, capacityType, zone);
  }

  public void nodeClaimRegistered(String nodePool) {
    Counter.builder("karpenter.nodeclaims.registered").description("Number of nodeclaims registered in total by Karpenter.")
        .tag("nodepool", nodePool).register(registry).increment();
  }

  public void nodeClaimInitialized(String nodePool) {
    Counter.builder("karpenter.nodeclaims.initialized").description("Number of nodeclaims initialized in total by Karpenter.")
        .tag("nodepool", nodePool).register(registry).increment();
  }

  public void nodeClaimTerminated(String nodePool, String capacityType, String zone) {
    claimsTerminated(nodePool, capacityType, zone).increment();
  }

  private Counter claimsTerminated(String nodePool, String capacityType, String zone) {
    return Counter.builder("karpenter.nodeclaims.terminated").description("Number of nodeclaims terminated in total by Karpenter.")
        .tag("nodepool", nodePool).tag("capacity_type", capacityType).tag("zone", zone).register(registry);
  }

  public void nodeClaimDisrupted(String reason, String nodePool, String capacityType) {
    disrupted(reason, nodePool, capacityType).increment();
  }

  /** A NodeClaim a graceful disruption decided on, waiting for its validation: its disrupted series starts at 0 (see {@link #disruptionDecided}). */
  public void nodeClaimDisruptionDecided(String reason, String nodePool, String capacityType) {
    disrupted(reason, nodePool, capacityType);
  }

  private Counter disrupted(String reason, String nodePool, String capacityType) {
    return Counter.builder("karpenter.nodeclaims.disrupted").description("Number of nodeclaims disrupted in total by Karpenter.")
        .tag("reason", reason).tag("nodepool", nodePool).tag("capacity_type", capacityType).register(registry);
  }

  /** A NodeClaim node repair deleted: the condition that was unhealthy past its toleration. */
  public void nodeClaimUnhealthy(String condition, String nodePool, String capacityType, String imageId) {
    Counter.builder("karpenter.nodeclaims.unhealthy.disrupted").description("Number of unhealthy nodeclaims disrupted in total by Karpenter.")
        .tag("condition", condition).tag("nodepool", nodePool).tag("capacity_type", capacityType).tag("image_id", imageId).register(registry)
        .increment();
  }

  /** A graceful disruption carried out: {@code decision} delete or replace; {@code reason} empty, drifted or underutilized. */
  public void disruptionDecision(String decision, String reason, String consolidationType) {
    decisions(decision, reason, consolidationType).increment();
  }

  /**
   * A graceful disruption decided and waiting for its validation: its decision's series starts at 0 now (if it is new),
   * so the increase when it is carried out shows in a dashboard's {@code increase()} (a series born at 1 shows none).
   */
  public void disruptionDecided(String decision, String reason, String consolidationType) {
    decisions(decision, reason, consolidationType);
  }

  private Counter decisions(String decision, String reason, String consolidationType) {
    return Counter.builder("karpenter.voluntary.disruption.decisions").description("Number of disruption decisions performed.")
        .tag("decision", decision).tag("reason", reason).tag("consolidation_type", consolidationType).register(registry);
  }

  /** How long a disruption method took to compute its commands. */
  public void disruptionEvaluation(String reason, String consolidationType, Duration took) {
    Timer.builder("karpenter.voluntary.disruption.decision.evaluation.duration")
        .description("Duration of the disruption decision evaluation process in seconds.")
        .tag("reason", reason).tag("consolidation_type", consolidationType).publishPercentileHistogram().register(registry).record(took);
  }

  /** A decision dropped when it was checked again after the validation delay. */
  public void disruptionFailedValidation(String consolidationType) {
    Counter.builder("karpenter.voluntary.disruption.failed.validations")
        .description("Number of candidates that were selected for disruption but failed validation.")
        .tag("consolidation_type", consolidationType).register(registry).increment();
  }

  /** How many nodes a disruption method found eligible in its last pass. */
  public void disruptionEligible(String reason, int nodes) {
    gauge("karpenter.voluntary.disruption.eligible.nodes", "Number of nodes eligible for disruption by Karpenter.", nodes, "reason", reason);
  }

  /** How many nodes of a pool count against its budgets for a reason now (being disrupted, deleting or not Ready). */
  public void nodesConsumingBudgets(String nodePool, String reason, int nodes) {
    gauge("karpenter.nodepools.nodes.consuming.budgets", "The number of nodes for a given NodePool that are consuming disruption budgets.",
        nodes, "nodepool", nodePool, "reason", reason);
  }

  /** Whether the replacement window in force lets an operation (consolidation, pod eviction, reverse fallback) start now. */
  public void replacementWindowOpen(String operation, boolean open) {
    gauge("dovetail.replacement.window.open", "1 while the replacement window lets the operation start, 0 outside it.", open ? 1 : 0,
        "operation", operation);
  }

  /** How many more nodes of a pool its budgets allow to be disrupted for a reason. */
  public void allowedDisruptions(String nodePool, String reason, int nodes) {
    gauge("karpenter.nodepools.allowed.disruptions", "The number of nodes for a given NodePool that can be concurrently disrupting at a point in time.",
        nodes, "nodepool", nodePool, "reason", reason);
  }

  /**
   * Drops the labelled gauge series of NodePools that are gone ({@code nodepool} label not among
   * {@code pools}), so a deleted pool's budgets do not linger in the scrape.
   */
  public void retainPools(Set<String> pools) {
    for (List<String> key : List.copyOf(gauges.keySet())) {
      int at = key.indexOf("nodepool");
      if (at > 0 && at % 2 == 1 && at + 1 < key.size() && !pools.contains(key.get(at + 1))) {
        List<String> tags = key.subList(1, key.size());
        Meter meter = registry.find(key.get(0)).tags(tags.toArray(String[]::new)).meter();
        if (meter != null) {
          registry.remove(meter);
        }
        gauges.remove(key);
      }
    }
  }

  private void gauge(String name, String help, int value, String... tags) {
    List<String> key = new ArrayList<>(List.of(name));
    key.addAll(List.of(tags));
    gauges.computeIfAbsent(key, k -> {
      AtomicInteger holder = new AtomicInteger();
      Gauge.builder(name, holder, AtomicInteger::get).description(help).tags(tags).register(registry);
      return holder;
    }).set(value);
  }

  /** A node registered; its termination series starts at 0 (see {@link #nodeClaimLaunched}). */
  public void nodeCreated(String nodePool, String zone) {
    Counter.builder("karpenter.nodes.creations").description("Number of nodes created in total by Karpenter.")
        .tag("nodepool", nodePool).tag("zone", zone).register(registry).increment();
    nodesTerminated(nodePool, zone);
  }

  public void nodeTerminated(String nodePool, String zone) {
    nodesTerminated(nodePool, zone).increment();
  }

  private Counter nodesTerminated(String nodePool, String zone) {
    return Counter.builder("karpenter.nodes.terminated").description("Number of nodes terminated in total by Karpenter.")
        .tag("nodepool", nodePool).tag("zone", zone).register(registry);
  }

  public void terminationDuration(String nodePool, Duration d) {
    Metrics.histogram("karpenter.nodeclaims.termination.duration", "Time from NodeClaim deletion until its finalizer is removed.")
        .tag("nodepool", nodePool).register(registry).record(d);
  }

  /** A node's pods are all gone (evicted, or done) on its way out. */
  public void nodeDrained(String nodePool) {
    Counter.builder("karpenter.nodes.drained").description("The number of nodes drained by Karpenter").tag("nodepool", nodePool)
        .register(registry).increment();
  }

  /** A pod evicted while its node drained, by the node's disruption reason. */
  public void podDrained(String reason) {
    Counter.builder("karpenter.pods.drained").description("Number of pods drained by Karpenter").tag("reason", reason)
        .register(registry).increment();
  }

  /** A node's time from creation until it was deleted. */
  public void nodeLifetime(String nodePool, Duration d) {
    Timer.builder("karpenter.nodes.lifetime.duration").description("The lifetime duration of the nodes since creation.")
        .serviceLevelObjectives(LIFETIME_BUCKETS).tag("nodepool", nodePool).register(registry).record(d);
  }

  /** Node lifetimes run from minutes to weeks. */
  private static final Duration[] LIFETIME_BUCKETS = Stream.of(Duration.ofMinutes(1), Duration.ofMinutes(5), Duration.ofMinutes(15), Duration.ofMinutes(30),
      Duration.ofHours(1), Duration.ofHours(3), Duration.ofHours(6), Duration.ofHours(12), Duration.ofDays(1), Duration.ofDays(3), Duration.ofDays(7),
      Duration.ofDays(14), Duration.ofDays(30)).toArray(Duration[]::new);

  public void evictionRequest(int code) {
    Counter.builder("karpenter.pods.eviction.requests").description("Eviction API calls by response code.")
        .tag("code", String.valueOf(code)).register(registry).increment();
  }

  public void launchFailure(String zone, String capacityType, String reason) {
    Counter.builder("karpenter.cloudprovider.instance.launch.failures").description("Failed instance launches.")
        .tag("zone", zone).tag("zone_id", "").tag("capacity_type", capacityType).tag("reason", reason).register(registry).increment();
  }

  public void cloudProviderError(String method, String provider, String error) {
    Counter.builder("karpenter.cloudprovider.errors").description("Errors returned by cloud provider calls.")
        .tag("controller", "nodeclaim.lifecycle").tag("method", method).tag("provider", provider).tag("error", error)
        .register(registry).increment();
  }

  public Timer cloudProviderDuration(String method, String provider) {
    return Metrics.histogram("karpenter.cloudprovider.duration", "Duration of cloud provider calls.")
        .tag("controller", "nodeclaim.lifecycle").tag("method", method).tag("provider", provider).register(registry);
  }

  /** Scheduling simulation time, under the v1.0 name and the later one. */
  public void schedulingDuration(Duration d) {
    Timer.builder("karpenter.provisioner.scheduling.duration").description("Duration of scheduling simulations used for deprovisioning and provisioning.")
        .publishPercentileHistogram().register(registry).record(d);
    Timer.builder("karpenter.scheduler.scheduling.duration").description("Duration of scheduling simulations.")
        .tag("controller", "provisioner").publishPercentileHistogram().register(registry).record(d);
  }

  public void batchSize(int pods) {
    DistributionSummary.builder("dovetail.provisioner.batch.pods").description("Pending pods simulated per batch.")
        .register(registry).record(pods);
  }
}
