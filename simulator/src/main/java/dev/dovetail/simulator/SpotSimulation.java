package dev.dovetail.simulator;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.catalog.InstanceType;
import dev.dovetail.api.catalog.InterruptionBucket;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.disruption.DrainPod;
import dev.dovetail.api.distribution.DistributionRule;
import dev.dovetail.api.distribution.RuleSet;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec;
import dev.dovetail.api.interruption.NodeMarks;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeClaimSpec;
import dev.dovetail.api.karpenter.v1.NodeClaimStatus;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.InstanceOption;
import dev.dovetail.api.scheduling.InstanceOptions;
import dev.dovetail.api.scheduling.NewClaim;
import dev.dovetail.api.scheduling.Offering;
import dev.dovetail.api.scheduling.Requirements;
import dev.dovetail.api.scheduling.Resources;
import dev.dovetail.api.scheduling.Scheduler;
import dev.dovetail.api.scheduling.SimNode;
import dev.dovetail.provisioner.cloud.LaunchPlan;
import dev.dovetail.provisioner.disruption.BudgetRules;
import dev.dovetail.provisioner.disruption.Budgets;
import dev.dovetail.provisioner.disruption.Candidate;
import dev.dovetail.provisioner.disruption.Command;
import dev.dovetail.provisioner.disruption.Consolidator;
import dev.dovetail.provisioner.disruption.Emptiness;
import dev.dovetail.provisioner.disruption.Method;
import dev.dovetail.provisioner.disruption.MultiNodeConsolidation;
import dev.dovetail.provisioner.disruption.Reason;
import dev.dovetail.provisioner.disruption.ReverseFallback;
import dev.dovetail.provisioner.disruption.SingleNodeConsolidation;
import dev.dovetail.provisioner.provisioning.CapacityTypes;
import dev.dovetail.provisioner.provisioning.NodeClaimFactory;
import dev.dovetail.provisioner.provisioning.Provisioner;
import dev.dovetail.provisioner.provisioning.Simulator;
import dev.dovetail.provisioner.provisioning.Snapshot;
import dev.dovetail.provisioner.provisioning.Templates;
import dev.dovetail.runtime.ManualClock;
import dev.dovetail.state.Governance;
import dev.dovetail.state.MemoryClusterView;
import dev.dovetail.state.NodeFacts;
import dev.dovetail.state.Workload;
import dev.dovetail.state.WorkloadKey;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * One strategy's run of a {@link Scenario}: a discrete-event simulation of a cluster over the period, in
 * simulated time, decided by Dovetail's own code. Pending replicas are gathered for a batch and placed by
 * the provisioner's {@link Simulator} with the distribution's {@link CapacityTypes} (fallback included);
 * each new claim becomes a {@link NodeClaimFactory NodeClaim} launched in the {@link LaunchPlan} order
 * (spot pools ordered by interruption bucket for LeastInterrupted), an offering that has no capacity
 * going into the unavailable-offerings cache for its TTL as the providers do; disruption passes run
 * emptiness, multi- and single-node consolidation and {@link ReverseFallback} over {@link Candidate}s, a
 * replacement Ready before its candidates go. The market: each spot node is interrupted after an
 * exponential time whose rate is its type's interruption bucket (its midpoint, a month's share of
 * instances interrupted); pools run short at random and whole outages take all of spot away. Everything
 * random is drawn from the scenario's seed, the market's history before any decision, so every strategy
 * meets the same shortages.
 */
public final class SpotSimulation {
  static final Instant START = Instant.parse("2026-11-30T00:00:00Z");
  private static final String POOL = "default";
  private static final Catalog CATALOG = Catalog.bundled();
  /** The interruption buckets' midpoints: the share of a month's spot instances interrupted. */
  private static final double[] MONTHLY_INTERRUPTION = {0.025, 0.075, 0.125, 0.175, 0.25, 0.25};
  private static final double HOURS_PER_MONTH = 730;

  private final Scenario scenario;
  private final Strategy strategy;
  private final Consumer<String> trace;
  private final Random interruptions;
  private final PriorityQueue<Event> events = new PriorityQueue<>();
  private long sequence;
  private Instant now = START;
  /** {@link #now} for the product code that reads a clock. */
  private final ManualClock clock = new ManualClock(START);
  /** Interrupted nodes whose drain holds while their replicas' replacement boots, in the order they were interrupted. */
  private final Set<String> holding = new LinkedHashSet<>();
  private boolean interruptionPassSoon;

  private final Templates.PoolTemplate poolShape;
  private final List<Shortage> shortages;
  private final Map<String, Instant> unavailable = new HashMap<>();
  private List<InstanceOption> options;
  private Templates.PoolTemplate pool;
  private int optionsVersion = -1;
  private int unavailableVersion;

  private final MemoryClusterView view = new MemoryClusterView();
  private final CapacityTypes capacityTypes;
  private final Map<String, Machine> machines = new LinkedHashMap<>();
  private final Map<String, Replica> replicas = new LinkedHashMap<>();
  private final Map<String, Integer> desired = new HashMap<>();
  private int nextMachine;
  private int nextReplica;
  private boolean provisionScheduled;

  private final List<Method> methods;
  private final ReverseFallback reverseFallback;
  /** Commands under way: replacements launched, the candidates go once they are Ready. */
  private final Map<String, Pending> underWay = new HashMap<>();
  private boolean changedSinceQuietPass = true;
  /** A command decided and waiting for its validation (one at a time, as the orchestrator). */
  private boolean deciding;
  /** A pass asked for when a method's check falls due, besides the poll. */
  private Instant extraPass;

  // What the outcome reports.
  private final Duration bucket;
  private final double[] series;
  private double cost;
  private double podSeconds;
  private final Map<Outcome.PendingCause, Double> pendingSeconds = new EnumMap<>(Outcome.PendingCause.class);
  private double spotSeconds;
  private final Map<String, Integer> interrupted = new TreeMap<>();
  private int fallbacks;
  private int reverseFallbacks;
  private int launches;
  private int moved;
  private int fallenBack;
  private int backOnSpot;
  private int stillAsked;

  /** A node: launched, Ready once booted, gone when deleted or interrupted. */
  private static final class Machine {
    final String name;
    final InstanceType type;
    final InstanceOption option;
    final String zone;
    final CapacityType capacityType;
    final boolean fallback;
    final double price;
    final Instant launched;
    final Map<String, String> labels;
    /** Its labels once Ready: Initialized, as the lifecycle labels a node. */
    final Map<String, String> initializedLabels;
    final Set<String> replicas = new HashSet<>();
    Resources requested = Resources.NONE;
    Instant ready;
    /** When a replica last came or went (consolidateAfter counts from it, or from Ready). */
    Instant lastPodEvent;
    boolean cordoned;
    boolean interrupted;

    Machine(String name, InstanceType type, InstanceOption option, String zone, CapacityType capacityType, boolean fallback, Instant launched) {
      this.name = name;
      this.type = type;
      this.option = option;
      this.zone = zone;
      this.capacityType = capacityType;
      this.fallback = fallback;
      this.price = type.pricePerHour(capacityType, zone);
      this.launched = launched;
      Map<String, String> l = new HashMap<>(option.requirements().singleValues());
      l.put(WellKnownLabels.NODEPOOL, POOL);
      l.put(WellKnownLabels.INSTANCE_TYPE, type.name());
      l.put(WellKnownLabels.ZONE, zone);
      l.put(WellKnownLabels.CAPACITY_TYPE, capacityType.label());
      l.put(WellKnownLabels.HOSTNAME, name);
      if (fallback) {
        l.put(DovetailLabels.CAPACITY_FALLBACK, "true");
      }
      this.labels = Map.copyOf(l);
      l.put(WellKnownLabels.INITIALIZED, "true");
      this.initializedLabels = Map.copyOf(l);
    }

    boolean spot() {
      return capacityType.isSpot();
    }
  }

  /** A replica: its pod (bound to a node or not) and since when it waits for a Ready node. */
  private static final class Replica {
    final String workload;
    Pod pod;
    String node;
    Instant pendingSince;
    /** Why it waits, while it does. */
    Outcome.PendingCause pendingCause = Outcome.PendingCause.NEW;
    final Instant created;

    Replica(String workload, Pod pod, Instant created) {
      this.workload = workload;
      this.pod = pod;
      this.created = created;
      this.pendingSince = created;
    }

    void pend(Instant at, Outcome.PendingCause cause) {
      pendingSince = at;
      pendingCause = cause;
    }
  }

  /**
   * A spot pool (or, with a null type, all of spot) without capacity from {@code from} to {@code to}; with
   * {@code reclaim}, the running spot nodes it covers are interrupted as it begins.
   */
  record Shortage(String type, String zone, Instant from, Instant to, boolean reclaim) {
    boolean covers(String t, String z, Instant at) {
      return (type == null || (type.equals(t) && zone.equals(z))) && !at.isBefore(from) && at.isBefore(to);
    }
  }

  /** A command whose replacements are booting. */
  private record Pending(Method method, Command command, List<String> replacements) {
  }

  private record Event(Instant at, long sequence, Runnable action) implements Comparable<Event> {
    @Override
    public int compareTo(Event o) {
      int c = at.compareTo(o.at);
      return c != 0 ? c : Long.compare(sequence, o.sequence);
    }
  }

  public SpotSimulation(Scenario scenario, Strategy strategy) {
    this(scenario, strategy, line -> { });
  }

  /** @param trace told of every launch, node Ready, interruption, disruption command and outage, a line each */
  public SpotSimulation(Scenario scenario, Strategy strategy, Consumer<String> trace) {
    this.trace = trace;
    this.scenario = scenario;
    this.strategy = strategy;
    this.interruptions = new Random(scenario.seed() * 31 + 7);
    // Hours for a long period, ten seconds for a replay of minutes.
    this.bucket = scenario.period().compareTo(Duration.ofHours(6)) >= 0 ? Duration.ofHours(1) : Duration.ofSeconds(10);
    this.series = new double[(int) Math.max(1, scenario.period().toSeconds() / bucket.toSeconds())];
    NodePool nodePool = nodePool();
    EC2NodeClass nodeClass = Serialization.unmarshal("""
        apiVersion: karpenter.k8s.aws/v1
        kind: EC2NodeClass
        metadata: {name: default}
        spec:
          role: KarpenterNodeRole
          amiSelectorTerms: [{alias: al2023@latest}]
          subnetSelectorTerms: [{tags: {karpenter.sh/discovery: sim}}]
          securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: sim}}]
        """, EC2NodeClass.class);
    this.poolShape = new Templates.PoolTemplate(nodePool, nodeClass, null);
    this.shortages = shortages(scenario);
    this.capacityTypes = new CapacityTypes(new Governance(view, Set.of()),
        name -> Optional.ofNullable(machines.get(name)).map(m -> m.labels));
    List<RuleSet.Entry> rules = new ArrayList<>();
    for (Scenario.WorkloadSpec w : scenario.workloads()) {
      int spot = strategy == Strategy.ON_DEMAND ? 0 : w.spotPercent();
      if (strategy.rules()) {
        rules.add(new RuleSet.Entry(w.name(), START, Optional.of(w.name()), new DistributionRule(spot, 100 - spot, 0,
            WorkloadDistributionRuleSpec.Selector.All, strategy.leastInterrupted() ? WorkloadDistributionRuleSpec.Strategy.LeastInterrupted
            : WorkloadDistributionRuleSpec.Strategy.CostOptimized)));
      }
    }
    view.rules(RuleSet.of(rules));
    Consolidator consolidator = new Consolidator(new Consolidator.Inputs(() -> Consolidator.Simulation.of(simulator()), this::pendingPods,
        c -> Optional.ofNullable(machines.get(c.name())).map(m -> m.price), name -> Optional.of(pool().pool()), ns -> List.of(),
        name -> false, name -> Optional.empty(), pod -> desired.getOrDefault(pod.getMetadata().getNamespace(), 1), (c, why) -> { }),
        () -> false);
    this.reverseFallback = new ReverseFallback(consolidator, () -> strategy.rules() ? Optional.of(scenario.timings().reverseFallbackInterval())
        : Optional.empty(), new ReverseFallback.Report() {
          @Override
          public void waiting(Candidate c, String why) {
          }

          @Override
          public void ended(Candidate c, String nodePool, boolean succeeded, Duration backoff) {
            if (succeeded) {
              reverseFallbacks++;
            }
          }
        });
    this.methods = List.of(new Emptiness(name -> false), new MultiNodeConsolidation(consolidator, clock),
        new SingleNodeConsolidation(consolidator, clock), reverseFallback);
  }

  /** One NodePool of the scenario's types (or current-generation c, m and r up to 16 vCPU), spot and on-demand, consolidating when underutilized. */
  private NodePool nodePool() {
    String indent = " ".repeat(8);
    String types = scenario.instanceTypes().isEmpty()
        ? indent + "- {key: karpenter.k8s.aws/instance-category, operator: In, values: [c, m, r]}\n"
            + indent + "- {key: karpenter.k8s.aws/instance-generation, operator: Gt, values: [\"4\"]}\n"
            + indent + "- {key: karpenter.k8s.aws/instance-cpu, operator: Lt, values: [\"17\"]}"
        : indent + "- {key: node.kubernetes.io/instance-type, operator: In, values: [" + String.join(", ", scenario.instanceTypes()) + "]}";
    return Serialization.unmarshal("""
        apiVersion: karpenter.sh/v1
        kind: NodePool
        metadata: {name: %s, uid: 00000000-0000-0000-0000-000000000001}
        spec:
          template:
            spec:
              nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
              requirements:
                - {key: karpenter.sh/capacity-type, operator: In, values: [spot, on-demand]}
                - {key: kubernetes.io/arch, operator: In, values: [amd64]}
        %s
                - {key: topology.kubernetes.io/zone, operator: In, values: [%s]}
          disruption: {consolidationPolicy: WhenEmptyOrUnderutilized, consolidateAfter: %ds}
        """.formatted(POOL, types, String.join(", ", scenario.zones()), scenario.timings().consolidateAfter().toSeconds()), NodePool.class);
  }

  /** The market's shortages over the period: random pool shortages, then the scenario's outages. */
  static List<Shortage> shortages(Scenario scenario) {
    Random random = new Random(scenario.seed());
    List<Shortage> out = new ArrayList<>();
    Instant end = START.plus(scenario.period());
    double hours = scenario.period().toSeconds() / 3600.0;
    for (InstanceType t : CATALOG.all()) {
      if (!t.capacityTypes().contains(CapacityType.SPOT)) {
        continue;
      }
      double perHour = scenario.market().poolShortagesPerDay() / 24 * (1 + InterruptionBucket.rank(t.interruption()));
      for (String zone : t.zones()) {
        if (!scenario.zones().contains(zone)) {
          continue;
        }
        double at = exponential(random, perHour);
        while (at < hours) {
          double length = exponential(random, 3600.0 / scenario.market().poolShortage().toSeconds());
          Instant from = START.plusSeconds((long) (at * 3600));
          Instant to = from.plusSeconds((long) (length * 3600));
          out.add(new Shortage(t.name(), zone, from, to.isAfter(end) ? end : to, false));
          at += length + exponential(random, perHour);
        }
      }
    }
    for (Scenario.Outage o : scenario.market().outages()) {
      out.add(new Shortage(null, null, START.plus(o.start()), START.plus(o.start()).plus(o.length()), o.reclaim()));
    }
    return out;
  }

  /** An exponential wait (in hours) at {@code perHour} events an hour. */
  private static double exponential(Random random, double perHour) {
    return -Math.log(1 - random.nextDouble()) / perHour;
  }

  /** Runs the period and reports. */
  public Outcome run() {
    Instant end = START.plus(scenario.period());
    Set<Instant> demandChanges = new TreeSet<>();
    for (Scenario.WorkloadSpec w : scenario.workloads()) {
      if (w.steps().isEmpty()) {
        for (Instant t = START; t.isBefore(end); t = t.plus(Duration.ofMinutes(15))) {
          demandChanges.add(t);
        }
      }
      w.steps().forEach(step -> demandChanges.add(START.plus(step.at())));
    }
    demandChanges.forEach(t -> at(t, this::demand));
    for (Instant t = START.plus(scenario.timings().disruptionEvery()); t.isBefore(end); t = t.plus(scenario.timings().disruptionEvery())) {
      at(t, this::disruptionPass);
    }
    for (Shortage s : shortages) {
      at(s.to(), () -> {
        // The end of a shortage frees no capacity by itself: the unavailable-offerings cache still has to expire.
        changedSinceQuietPass = true;
      });
      if (s.type() == null) {
        if (s.reclaim()) {
          at(s.from(), this::outageStarted);
        }
        at(s.to(), this::outageEnded);
      }
    }
    while (!events.isEmpty() && !events.peek().at().isAfter(end)) {
      Event e = events.poll();
      advance(e.at());
      e.action().run();
    }
    advance(end);
    for (Replica r : replicas.values()) {
      if (r.pendingSince != null) {
        waited(r, end);
      }
    }
    List<Double> costs = new ArrayList<>();
    for (double c : series) {
      costs.add(c);
    }
    return new Outcome(strategy, cost, bucket, costs, podSeconds, pendingSeconds, interrupted, fallbacks, reverseFallbacks, fallenBack, backOnSpot,
        stillAsked, podSeconds == 0 ? 0 : spotSeconds / podSeconds, launches, moved);
  }

  private void at(Instant when, Runnable action) {
    events.add(new Event(when, sequence++, action));
  }

  /** Moves the clock, charging every node for the time and counting replica-seconds. */
  private void advance(Instant to) {
    if (!to.isAfter(now)) {
      return;
    }
    double seconds = seconds(now, to);
    double spend = 0;
    for (Machine m : machines.values()) {
      spend += m.price * seconds / 3600;
      if (m.ready != null && m.spot() && !m.interrupted) {
        spotSeconds += m.replicas.size() * seconds;
      }
    }
    cost += spend;
    // The bucket's cost, split where the step crosses into the next bucket.
    Instant t = now;
    while (t.isBefore(to)) {
      long index = Duration.between(START, t).toSeconds() / bucket.toSeconds();
      Instant bucketEnd = START.plus(bucket.multipliedBy(index + 1));
      Instant stop = bucketEnd.isBefore(to) ? bucketEnd : to;
      if (index < series.length) {
        series[(int) index] += spend * seconds(t, stop) / seconds;
      }
      t = stop;
    }
    podSeconds += replicas.size() * seconds;
    now = to;
    clock.set(to);
  }

  private void trace(String format, Object... args) {
    trace.accept(Duration.between(START, now).toSeconds() + "s " + String.format(Locale.ROOT, format, args));
  }

  private static double seconds(Instant from, Instant to) {
    return Duration.between(from, to).toMillis() / 1000.0;
  }

  // --- demand --------------------------------------------------------------------------------------

  /**
   * Replicas asked for at this time: the last step's count (none before the first), or on the day's curve the
   * night's minimum rising to the maximum at 14:00 UTC.
   */
  static int replicas(Scenario.WorkloadSpec w, Instant at) {
    if (!w.steps().isEmpty()) {
      int count = 0;
      for (Scenario.Step step : w.steps()) {
        if (!START.plus(step.at()).isAfter(at)) {
          count = step.replicas();
        }
      }
      return count;
    }
    double hour = at.atZone(ZoneOffset.UTC).getHour() + at.atZone(ZoneOffset.UTC).getMinute() / 60.0;
    double level = (1 + Math.cos((hour - 14) / 24 * 2 * Math.PI)) / 2;
    return (int) Math.round(w.min() + (w.max() - w.min()) * level);
  }

  private void demand() {
    for (Scenario.WorkloadSpec w : scenario.workloads()) {
      int want = replicas(w, now);
      desired.put(w.name(), want);
      view.workload("ReplicaSet", w.name(), new Workload(new WorkloadKey(w.name(), "Deployment", w.name()), want));
      List<Replica> mine = replicas.values().stream().filter(r -> r.workload.equals(w.name())).toList();
      int have = mine.size();
      for (int i = have; i < want; i++) {
        create(w);
      }
      if (have > want) {
        scaleDown(mine, have - want);
        changedSinceQuietPass = true;
      }
    }
  }

  /**
   * Deletes {@code count} replicas as the ReplicaSet controller ranks them: unscheduled first, then those whose
   * node is not Ready, then those sharing their node with more replicas of the workload, then the newest.
   */
  private void scaleDown(List<Replica> mine, int count) {
    Map<String, Integer> onNode = new HashMap<>();
    mine.stream().filter(r -> r.node != null).forEach(r -> onNode.merge(r.node, 1, Integer::sum));
    List<Replica> order = new ArrayList<>(mine);
    order.sort(Comparator.comparing((Replica r) -> r.node != null)
        .thenComparing((Replica r) -> r.node != null && machines.get(r.node).ready != null)
        .thenComparing((Replica r) -> r.node == null ? 0 : onNode.get(r.node), Comparator.reverseOrder())
        .thenComparing((Replica r) -> r.created, Comparator.reverseOrder()));
    List.copyOf(order.subList(0, count)).forEach(this::delete);
  }

  private void create(Scenario.WorkloadSpec w) {
    String uid = w.name() + "-" + nextReplica++;
    Pod pod = new PodBuilder().withNewMetadata().withName(uid).withNamespace(w.name()).withUid(uid).withLabels(Map.of("app", w.name()))
        .addNewOwnerReference().withApiVersion("apps/v1").withKind("ReplicaSet").withName(w.name()).withUid(w.name() + "-rs")
        .withController(true).endOwnerReference().withCreationTimestamp(now.toString()).endMetadata()
        .withNewSpec().addNewContainer().withName("app").withImage("app").withNewResources()
        .addToRequests("cpu", new Quantity(w.cpuMillis() + "m")).addToRequests("memory", new Quantity(w.memoryMiB() + "Mi")).endResources()
        .endContainer().endSpec().withNewStatus().withPhase("Pending").endStatus().build();
    replicas.put(uid, new Replica(w.name(), pod, now));
    view.pod(uid, key(w.name()), Optional.empty(), Resources.requestsOf(pod));
    provisionSoon();
  }

  private static WorkloadKey key(String workload) {
    return new WorkloadKey(workload, "Deployment", workload);
  }

  private void delete(Replica r) {
    if (r.pendingSince != null) {
      waited(r, now);
    }
    unbind(r);
    replicas.remove(r.pod.getMetadata().getUid());
    view.removePod(r.pod.getMetadata().getUid());
  }

  // --- provisioning --------------------------------------------------------------------------------

  private void provisionSoon() {
    if (!provisionScheduled) {
      provisionScheduled = true;
      at(now.plus(scenario.timings().batch()), this::provision);
    }
  }

  private List<Pod> pendingPods() {
    return replicas.values().stream().filter(r -> r.node == null).map(r -> r.pod).toList();
  }

  /** A provisioning pass: the pending replicas placed by the provisioner's simulation, new claims launched. */
  private void provision() {
    provisionScheduled = false;
    List<Pod> pending = pendingPods();
    if (pending.isEmpty()) {
      return;
    }
    Provisioner.Plan plan = simulator().simulate(pending, Set.of());
    plan.solution().onExistingNodes().forEach((uid, node) -> bind(replicas.get(uid), machines.get(node)));
    boolean refused = false;
    for (NewClaim claim : plan.solution().newClaims()) {
      Optional<Machine> launched = launch(claim, plan);
      if (launched.isEmpty()) {
        refused = true;
        continue;
      }
      claim.podUids().forEach(uid -> bind(replicas.get(uid), launched.get()));
    }
    if (refused) {
      // A claim the cloud refused is deleted and its pods are batched again at once, the offerings it tried now unavailable.
      provisionSoon();
    } else if (replicas.values().stream().anyMatch(r -> r.node == null)) {
      // What found no room waits for the next pass (the unavailable offerings' TTL, a node going away).
      at(now.plus(Duration.ofSeconds(30)), this::provisionSoon);
    }
  }

  private Simulator simulator() {
    Templates.PoolTemplate p = pool();
    return new Simulator(List.of(p), Map.of(), capacity(), scope -> strategy.rules() ? capacityTypes.rules(scope, pod -> Requirements.NONE) : Simulator.PodRules.NONE, plan -> { });
  }

  /** The pool with the options as the unavailable-offerings cache has them now (rebuilt when the cache changed). */
  private Templates.PoolTemplate pool() {
    unavailable.values().removeIf(until -> !until.isAfter(now));
    int version = unavailableVersion * 31 + unavailable.size();
    if (pool == null || version != optionsVersion) {
      options = InstanceOptions.from(CATALOG, Set.copyOf(scenario.zones()), OptionalInt.empty(),
          (t, o) -> unavailable.containsKey(offering(t.name(), o.zone(), o.capacityType())));
      pool = Templates.build(poolShape.pool(), poolShape.nodeClass(), options, List.of(), List.of());
      optionsVersion = version;
    }
    return pool;
  }

  private static String offering(String type, String zone, CapacityType capacityType) {
    return type + "/" + zone + "/" + capacityType.label();
  }

  private void markUnavailable(String type, String zone, CapacityType capacityType) {
    unavailable.put(offering(type, zone, capacityType), now.plus(scenario.timings().unavailableTtl()));
    unavailableVersion++;
  }

  /** What the scheduler sees: Ready and booting nodes (claims in flight), cordoned ones left out, and where replicas run. */
  private Snapshot.Capacity capacity() {
    List<Snapshot.Capacity.Entry> entries = new ArrayList<>();
    List<Snapshot.Capacity.PlacedPod> placed = new ArrayList<>();
    for (Machine m : machines.values()) {
      if (m.cordoned) {
        continue;
      }
      // A machine still booting is a claim in flight: room for pods to come, not yet for pods to move to.
      SimNode node = m.ready != null ? SimNode.node(m.name, m.initializedLabels, List.of(), m.option.allocatable(), m.requested, Set.of())
          : new SimNode(m.name, m.labels, Requirements.ofLabels(m.labels), List.of(), m.option.allocatable(), m.requested, Set.of(), true);
      entries.add(new Snapshot.Capacity.Entry(node, Set.of(m.name), Map.of()));
      for (String uid : m.replicas) {
        Pod p = replicas.get(uid).pod;
        placed.add(new Snapshot.Capacity.PlacedPod(uid, new Scheduler.Placed(p.getMetadata().getNamespace(), p.getMetadata().getLabels(),
            m.labels)));
      }
    }
    return new Snapshot.Capacity(entries, placed);
  }

  /**
   * Launches a claim as the providers do: its candidates in the launch plan's order (committed, spot, then
   * on-demand; cheapest first, or least interrupted first for LeastInterrupted), an offering without capacity
   * marked unavailable and the next tried; empty when none could be had.
   */
  private Optional<Machine> launch(NewClaim claim, Provisioner.Plan plan) {
    Templates.PoolTemplate p = plan.pools().get(claim.template().nodePool());
    NodeClaim object = NodeClaimFactory.create(claim, p.pool(), p.nodeClass(), "sim");
    List<LaunchPlan.Candidate> candidates = new ArrayList<>(LaunchPlan.of(object, options).candidates());
    if (strategy.leastInterrupted()) {
      candidates.sort(Comparator.comparingInt((LaunchPlan.Candidate c) -> c.offering().capacityType() == CapacityType.SPOT ? 0 : 1)
          .thenComparingInt(c -> c.offering().capacityType() == CapacityType.SPOT
              ? InterruptionBucket.rank(CATALOG.get(c.option().name()).flatMap(InstanceType::interruption)) : 0)
          .thenComparingDouble(c -> c.offering().pricePerHour()));
    }
    boolean fallback = "true".equals(object.getMetadata().getLabels().get(DovetailLabels.CAPACITY_FALLBACK));
    for (LaunchPlan.Candidate c : candidates) {
      Offering o = c.offering();
      if (o.capacityType() == CapacityType.SPOT && shortOf(c.option().name(), o.zone())) {
        markUnavailable(c.option().name(), o.zone(), o.capacityType());
        continue;
      }
      Machine m = new Machine("node-" + nextMachine++, CATALOG.get(c.option().name()).orElseThrow(), c.option(), o.zone(), o.capacityType(),
          fallback, now);
      machines.put(m.name, m);
      view.node(facts(m));
      launches++;
      if (fallback) {
        fallbacks++;
      }
      trace("launch %s %s %s %s%s for %d replicas", m.name, m.type.name(), m.zone, m.capacityType.label(), fallback ? " (fallback)" : "",
          claim.podUids().size());
      at(now.plus(scenario.timings().boot()), () -> ready(m));
      changedSinceQuietPass = true;
      return Optional.of(m);
    }
    return Optional.empty();
  }

  private boolean shortOf(String type, String zone) {
    for (Shortage s : shortages) {
      if (s.covers(type, zone, now)) {
        return true;
      }
    }
    return false;
  }

  private static NodeFacts facts(Machine m) {
    return new NodeFacts(m.name, Optional.of(m.capacityType), m.fallback, m.zone, m.type.name(), POOL, m.price,
        m.spot() ? InterruptionBucket.rank(m.type.interruption()) : 0, m.option.allocatable(), !m.cordoned);
  }

  private void ready(Machine m) {
    if (!machines.containsKey(m.name)) {
      return;
    }
    m.ready = now;
    podEvent(m);
    for (String uid : m.replicas) {
      Replica r = replicas.get(uid);
      if (r.pendingSince != null) {
        waited(r, now);
        r.pendingSince = null;
      }
    }
    if (m.spot()) {
      double rate = MONTHLY_INTERRUPTION[InterruptionBucket.rank(m.type.interruption())] / HOURS_PER_MONTH;
      double hours = exponential(interruptions, rate);
      if (hours < scenario.period().toHours() + 1) {
        at(now.plusSeconds((long) (hours * 3600)), () -> interrupt(m));
      }
    }
    interruptionPass();
    Pending waiting = underWay.values().stream().filter(p -> p.replacements().contains(m.name)).findFirst().orElse(null);
    if (waiting != null && waiting.replacements().stream().allMatch(n -> machines.containsKey(n) && machines.get(n).ready != null)) {
      finish(waiting);
    }
  }

  private void bind(Replica r, Machine m) {
    if (r == null || m == null) {
      return;
    }
    unbind(r);
    r.node = m.name;
    r.pod = new PodBuilder(r.pod).editSpec().withNodeName(m.name).endSpec().build();
    m.replicas.add(r.pod.getMetadata().getUid());
    m.requested = m.requested.plus(Resources.requestsOf(r.pod));
    podEvent(m);
    if (m.ready != null && r.pendingSince != null) {
      waited(r, now);
      r.pendingSince = null;
    }
    view.pod(r.pod.getMetadata().getUid(), key(r.workload), Optional.of(m.name), Resources.requestsOf(r.pod));
  }

  /** A replica came or went: consolidation looks at the node again once consolidateAfter has passed. */
  private void podEvent(Machine m) {
    m.lastPodEvent = now;
    at(now.plus(scenario.timings().consolidateAfter()), () -> changedSinceQuietPass = true);
  }

  private void unbind(Replica r) {
    if (r.node == null) {
      return;
    }
    Machine m = machines.get(r.node);
    if (m != null) {
      m.replicas.remove(r.pod.getMetadata().getUid());
      m.requested = m.requested.minus(Resources.requestsOf(r.pod));
      podEvent(m);
    }
    r.node = null;
    r.pod = new PodBuilder(r.pod).editSpec().withNodeName(null).endSpec().build();
  }

  // --- interruptions and outages -------------------------------------------------------------------

  /**
   * A spot interruption warning: the offering goes into the unavailable cache, the node is cordoned and billed
   * until the warning ends. With Dovetail, as the interrupt listener and the provisioner's Interruption method
   * do it, the replicas keep running while replacement capacity is launched for them, and the node is drained
   * once they have Ready room elsewhere or at the drain's latest start ({@link NodeMarks#evictionsStartBy}); with
   * Karpenter alone, or no eviction lead, it is drained at once and its replicas wait for new capacity.
   */
  private void interrupt(Machine m) {
    if (!machines.containsKey(m.name) || m.interrupted) {
      return;
    }
    m.interrupted = true;
    m.cordoned = true;
    trace("interrupt %s (%d replicas)", m.name, m.replicas.size());
    markUnavailable(m.type.name(), m.zone, CapacityType.SPOT);
    for (String uid : m.replicas) {
      interrupted.merge(replicas.get(uid).workload, 1, Integer::sum);
    }
    view.node(facts(m));
    at(now.plus(scenario.timings().notice()), () -> remove(m));
    abandonCommandsOf(m.name);
    Scenario.Timings t = scenario.timings();
    if (!strategy.rules() || t.evictionLead().isZero() || t.evictionLead().isNegative() || m.replicas.isEmpty()) {
      evict(m);
      return;
    }
    holding.add(m.name);
    Instant deadline = now.plus(t.notice()).minus(t.drainMargin());
    List<DrainPod> pods = m.replicas.stream().map(uid -> DrainPod.of(replicas.get(uid).pod)).toList();
    at(NodeMarks.evictionsStartBy(deadline, t.evictionLead(), pods), () -> {
      if (holding.remove(m.name)) {
        trace("evict %s: its latest start", m.name);
        evict(m);
      }
    });
    interruptionPass();
  }

  /**
   * The Interruption method's pass: the replicas of the nodes whose drain holds are simulated without those
   * nodes; a node whose replicas all have room on Ready nodes is drained now, and what the plan launches is
   * launched (their replacement).
   */
  private void interruptionPass() {
    if (holding.isEmpty()) {
      return;
    }
    List<Pod> displaced = new ArrayList<>();
    holding.forEach(name -> machines.get(name).replicas.forEach(uid -> displaced.add(replicas.get(uid).pod)));
    // As the Interruption method: pods looking for capacity (they may fall back); the cordoned nodes hold nothing.
    Simulator simulator = simulator();
    Provisioner.Plan plan = simulator.simulateDisplaced(displaced, holding);
    List<Machine> release = new ArrayList<>();
    for (String name : holding) {
      Machine h = machines.get(name);
      // As the Interruption method: each replica placed on a node that takes pods now (the capacity has no cordoned machine).
      boolean roomReady = h.replicas.stream().allMatch(uid -> Optional.ofNullable(plan.solution().onExistingNodes().get(uid))
          .filter(simulator::initialized).isPresent());
      if (roomReady) {
        release.add(h);
      }
    }
    boolean refused = false;
    for (NewClaim claim : plan.solution().newClaims()) {
      refused |= launch(claim, plan).isEmpty();
    }
    if (refused && !interruptionPassSoon) {
      // As the operator does: a refused replacement claim is deleted, and its deletion triggers the disruption pass again.
      interruptionPassSoon = true;
      at(now.plus(scenario.timings().batch()), () -> {
        interruptionPassSoon = false;
        interruptionPass();
      });
    }
    for (Machine h : release) {
      holding.remove(h.name);
      trace("evict %s: its replicas have Ready room", h.name);
      evict(h);
    }
  }

  /**
   * The node is drained: its replicas go where the scheduling simulation places them (on a booting node they
   * wait for it) or wait for new capacity.
   */
  private void evict(Machine m) {
    if (m.replicas.isEmpty()) {
      return;
    }
    List<Pod> moving = m.replicas.stream().map(uid -> replicas.get(uid).pod).toList();
    // Evicted, they are pending pods to the scheduler and the provisioner (the cordoned node holds nothing).
    Provisioner.Plan plan = simulator().simulate(moving, Set.of());
    for (Pod p : moving) {
      Replica r = replicas.get(p.getMetadata().getUid());
      unbind(r);
      Machine target = Optional.ofNullable(plan.solution().onExistingNodes().get(p.getMetadata().getUid())).map(machines::get).orElse(null);
      if (target != null) {
        bind(r, target);
      }
      if (target == null || target.ready == null) {
        r.pend(now, Outcome.PendingCause.INTERRUPTED);
      }
      if (target == null) {
        view.pod(p.getMetadata().getUid(), key(r.workload), Optional.empty(), Resources.requestsOf(r.pod));
        provisionSoon();
      }
    }
  }

  private void remove(Machine m) {
    holding.remove(m.name);
    for (String uid : List.copyOf(m.replicas)) {
      Replica r = replicas.get(uid);
      unbind(r);
      r.pend(now, Outcome.PendingCause.INTERRUPTED);
      view.pod(uid, key(r.workload), Optional.empty(), Resources.requestsOf(r.pod));
      provisionSoon();
    }
    forget(m.name);
    trace("gone %s", m.name);
    changedSinceQuietPass = true;
  }

  /** The replica's wait so far, counted under its cause. */
  private void waited(Replica r, Instant until) {
    pendingSeconds.merge(r.pendingCause, seconds(r.pendingSince, until), Double::sum);
  }

  /** A machine no longer exists: out of the machines and of the cluster view. */
  private void forget(String name) {
    machines.remove(name);
    view.removeNode(name);
  }

  /** An outage began: spot capacity is reclaimed, every running spot node gets its interruption warning. */
  private void outageStarted() {
    trace("outage reclaims spot");
    for (Machine m : List.copyOf(machines.values())) {
      if (m.spot()) {
        interrupt(m);
      }
    }
  }

  /**
   * An outage ended: the replicas on fallback capacity now are the ones reverse fallback should bring back;
   * two intervals later, those still asked for are counted on spot or not.
   */
  private void outageEnded() {
    trace("outage ends");
    Set<String> onFallback = new HashSet<>();
    for (Machine m : machines.values()) {
      if (m.fallback) {
        onFallback.addAll(m.replicas);
      }
    }
    fallenBack += onFallback.size();
    at(now.plus(scenario.timings().reverseFallbackInterval().multipliedBy(2)), () -> {
      for (String uid : onFallback) {
        Replica r = replicas.get(uid);
        if (r == null) {
          continue;
        }
        stillAsked++;
        Machine m = r.node == null ? null : machines.get(r.node);
        if (m != null && m.spot()) {
          backOnSpot++;
        }
      }
    });
  }

  // --- disruption ----------------------------------------------------------------------------------

  /**
   * A disruption pass as the orchestrator runs it: each method in order over the candidates, the first command
   * found carried out. Skipped while nothing changed since a pass that found nothing (Karpenter's
   * consolidation state), except for reverse fallback, whose checks are due by the clock.
   */
  private void disruptionPass() {
    interruptionPass();
    if (deciding) {
      return;
    }
    List<Candidate> all = readyMachines();
    Optional<Decision> found = decide(Optional.empty(), all);
    if (found.isEmpty()) {
      changedSinceQuietPass = false;
      passWhenDue(all);
      return;
    }
    Decision d = found.get();
    if (scenario.timings().validation().isZero()) {
      carryOut(d.method(), d.command());
      return;
    }
    // As the orchestrator: the command is carried out only if the same method still finds it after the validation delay.
    deciding = true;
    at(now.plus(scenario.timings().validation()), () -> {
      deciding = false;
      decide(Optional.of(d.method()), readyMachines()).filter(again -> names(again.command()).equals(names(d.command())))
          .ifPresent(again -> carryOut(again.method(), again.command()));
    });
  }

  /** The Ready, uncordoned machines as disruption candidates. */
  private List<Candidate> readyMachines() {
    return machines.values().stream().filter(m -> m.ready != null && !m.cordoned).map(this::candidate).toList();
  }

  /**
   * As the orchestrator requeues itself: a pass when a method's next check falls due (reverse fallback's
   * interval), if before the next poll; {@code all} the pass's Ready, uncordoned machines.
   */
  private void passWhenDue(List<Candidate> all) {
    Optional<Instant> due = methods.stream().map(m -> m.nextDue(all, now)).flatMap(Optional::stream).filter(t -> t.isAfter(now))
        .min(Instant::compareTo);
    Instant poll = now.plus(scenario.timings().disruptionEvery());
    if (due.isPresent() && due.get().isBefore(poll) && !due.get().equals(extraPass)) {
      extraPass = due.get();
      at(due.get(), this::disruptionPass);
    }
  }

  private record Decision(Method method, Command command) {
  }

  private static List<String> names(Command command) {
    return command.candidates().stream().map(Candidate::name).sorted().toList();
  }

  /** The first command of the methods in order (or of {@code only}), over those of {@code ready} no command is under way for. */
  private Optional<Decision> decide(Optional<Method> only, List<Candidate> ready) {
    Set<String> busy = new HashSet<>();
    underWay.values().forEach(p -> {
      p.command().candidates().forEach(c -> busy.add(c.name()));
      busy.addAll(p.replacements());
    });
    List<Candidate> candidates = ready.stream().filter(c -> !busy.contains(c.name())).toList();
    int initialized = (int) machines.values().stream().filter(m -> m.ready != null).count();
    Map<Reason, Integer> allowed = new HashMap<>();
    for (Reason r : List.of(Reason.EMPTY, Reason.UNDERUTILIZED, Reason.DRIFTED)) {
      int inFlight = underWay.values().stream().filter(p -> p.command().reason() == r).mapToInt(p -> p.command().candidates().size()).sum();
      allowed.put(r, Math.max(0, BudgetRules.allowed(BudgetRules.of(pool().pool()), r, initialized, now) - inFlight));
    }
    Budgets budgets = new Budgets(Map.of(POOL, allowed));
    boolean quiet = !changedSinceQuietPass && only.isEmpty();
    for (Method method : only.map(List::of).orElse(methods)) {
      if (quiet && method != reverseFallback) {
        continue;
      }
      method.beginPass(candidates, now);
      List<Candidate> eligible = candidates.stream().filter(c -> method.shouldDisrupt(c, now)).toList();
      if (eligible.isEmpty()) {
        continue;
      }
      List<Command> commands = method.computeCommands(budgets, eligible, now);
      if (!commands.isEmpty()) {
        return Optional.of(new Decision(method, commands.get(0)));
      }
    }
    return Optional.empty();
  }

  private Candidate candidate(Machine m) {
    NodeClaim claim = new NodeClaim();
    claim.setMetadata(new ObjectMetaBuilder().withName(m.name).withCreationTimestamp(m.launched.toString()).withLabels(m.labels).build());
    claim.setSpec(new NodeClaimSpec(null, null, List.of(), null, null, null, "720h"));
    String t = m.ready.toString();
    List<Condition> conditions = new ArrayList<>(List.of(new Condition(ConditionTypes.INITIALIZED, Condition.Status.True, 1L, t, "Initialized", "")));
    Instant quietSince = m.lastPodEvent == null || m.lastPodEvent.isBefore(m.ready) ? m.ready : m.lastPodEvent;
    if (!now.isBefore(quietSince.plus(scenario.timings().consolidateAfter()))) {
      conditions.add(new Condition(ConditionTypes.CONSOLIDATABLE, Condition.Status.True, 1L, now.toString(), "Consolidatable", ""));
    }
    claim.setStatus(new NodeClaimStatus(m.name, "sim://" + m.name, null, null, null, null, conditions));
    Node node = new NodeBuilder().withNewMetadata().withName(m.name).withLabels(m.labels).endMetadata().withNewStatus()
        .withAllocatable(m.option.allocatable().toQuantities()).endStatus().build();
    List<Pod> pods = m.replicas.stream().map(uid -> replicas.get(uid).pod).toList();
    return new Candidate(claim, Optional.of(node), pods);
  }

  /**
   * A command: without replacements its candidates' replicas move now; with them the replacements launch (a
   * refused one abandons the command, as the orchestrator does) and the candidates go once all are Ready.
   */
  private void carryOut(Method method, Command command) {
    changedSinceQuietPass = true;
    trace("%s: %s -> %s", command.reason().label(), names(command), command.replacements().map(p -> p.solution().newClaims().size()).orElse(0)
        + " replacements");
    method.started(command, now);
    if (command.replacements().isEmpty() || command.replacements().get().solution().newClaims().isEmpty()) {
      moveOff(command);
      method.finished(command, true, now);
      return;
    }
    Provisioner.Plan plan = command.replacements().get();
    List<String> launched = new ArrayList<>();
    for (NewClaim claim : plan.solution().newClaims()) {
      Optional<Machine> m = launch(claim, plan);
      if (m.isEmpty()) {
        launched.forEach(this::forget);
        method.finished(command, false, now);
        return;
      }
      launched.add(m.get().name);
    }
    command.candidates().forEach(c -> machines.get(c.name()).cordoned = true);
    underWay.put(command.candidates().get(0).name(), new Pending(method, command, launched));
  }

  private void finish(Pending p) {
    underWay.values().remove(p);
    boolean candidatesThere = p.command().candidates().stream().allMatch(c -> machines.containsKey(c.name()));
    if (candidatesThere) {
      moveOff(p.command());
    }
    p.method().finished(p.command(), candidatesThere, now);
  }

  /** The candidates' replicas placed anew without them (by the same simulation), then the candidates deleted. */
  private void moveOff(Command command) {
    Set<String> removed = new HashSet<>();
    List<Pod> moving = new ArrayList<>();
    for (Candidate c : command.candidates()) {
      removed.add(c.name());
      Machine m = machines.get(c.name());
      if (m != null) {
        m.replicas.forEach(uid -> moving.add(replicas.get(uid).pod));
      }
    }
    moved += moving.size();
    Provisioner.Plan plan = simulator().simulate(moving, removed);
    for (String name : removed) {
      trace("delete %s", name);
      Machine m = machines.remove(name);
      if (m != null) {
        for (String uid : List.copyOf(m.replicas)) {
          Replica r = replicas.get(uid);
          unbind(r);
        }
      }
    }
    plan.solution().onExistingNodes().forEach((uid, node) -> {
      Replica r = replicas.get(uid);
      Machine target = machines.get(node);
      bind(r, target);
      if (r != null && target != null && target.ready == null && r.pendingSince == null) {
        r.pend(now, Outcome.PendingCause.MOVED);  // placed on a node still booting: it waits for it
      }
    });
    for (Pod p : moving) {
      Replica r = replicas.get(p.getMetadata().getUid());
      if (r != null && r.node == null) {
        // No room after all (the cluster moved on while the replacement booted): it waits like any pending replica.
        r.pend(now, Outcome.PendingCause.MOVED);
        view.pod(p.getMetadata().getUid(), key(r.workload), Optional.empty(), Resources.requestsOf(r.pod));
        provisionSoon();
      }
    }
  }

  /** A command whose candidate or replacement was interrupted is abandoned: the candidates stay, uncordoned. */
  private void abandonCommandsOf(String machine) {
    for (Pending p : List.copyOf(underWay.values())) {
      boolean involved = p.replacements().contains(machine) || p.command().candidates().stream().anyMatch(c -> c.name().equals(machine));
      if (involved) {
        underWay.values().remove(p);
        p.command().candidates().forEach(c -> Optional.ofNullable(machines.get(c.name())).filter(m -> !m.interrupted)
            .ifPresent(m -> m.cordoned = false));
        p.method().finished(p.command(), false, now);
      }
    }
  }
}
