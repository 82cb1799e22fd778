package dev.dovetail.provisioner.disruption;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.Disruption;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeClaimSpec;
import dev.dovetail.api.karpenter.v1.NodeClaimStatus;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.InstanceOption;
import dev.dovetail.api.scheduling.InstanceOptions;
import dev.dovetail.api.scheduling.NewClaim;
import dev.dovetail.api.scheduling.Offering;
import dev.dovetail.api.scheduling.Requirement;
import dev.dovetail.api.scheduling.Requirements;
import dev.dovetail.api.scheduling.Resources;
import dev.dovetail.api.scheduling.Scheduler;
import dev.dovetail.api.scheduling.SimNode;
import dev.dovetail.provisioner.provisioning.Provisioner;
import dev.dovetail.provisioner.provisioning.Simulator;
import dev.dovetail.provisioner.provisioning.Snapshot;
import dev.dovetail.provisioner.provisioning.Templates;
import dev.dovetail.provisioner.testing.NodeClasses;
import dev.dovetail.provisioner.testing.NodePools;
import dev.dovetail.testkit.BenchReport;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Random;
import java.util.Set;

/**
 * Consolidation at scale, in one JVM, on Dovetail's own decision code: the methods (emptiness, drift,
 * multi-node and single-node consolidation) in the orchestrator's order, the {@link Consolidator} and the
 * provisioner's {@link Simulator} over one read of the cluster per pass. The cluster is what a scale-out
 * would make — the simulation's own plan for N×20 pods of five shapes, each claim launched as its
 * cheapest type, on-demand, in three zones, types of at most 16 vCPU so nodes hold about 20 pods — after
 * which 40 % of the pods go (a scale-down). Then passes run, each move applied at once (pods land where
 * the simulation put them), until a pass finds nothing. Reported per size: the first pass, the slowest
 * pass and the last (nothing to do, every method looking at every node), the number of passes, nodes and
 * cost before and after; next to the cost after, what the provisioner's own plan would buy for the pods
 * left starting from nothing, and a packing lower bound: the cheapest fractional mix of the pool's types
 * whose allocatable CPU and memory cover the pods' requests (a linear program over two constraints, solved
 * exactly over single types and pairs), which no real packing can beat. Run by scripts/bench-consolidation.
 */
public final class ConsolidationBench {
  private static final Catalog CATALOG = Catalog.bundled();
  private static final List<String> ZONES = List.of("us-east-1a", "us-east-1b", "us-east-1c");
  private static final Instant NOW = Instant.parse("2026-12-06T12:00:00Z");
  private static final String POOL = "general";
  /** Pod shapes: CPU millis, memory MiB. */
  private static final int[][] SHAPES = {{250, 512}, {500, 1024}, {1000, 2048}, {1500, 4096}, {300, 3072}};
  private static final int DEPLOYMENTS = 100;

  private final Random random;
  private final Templates.PoolTemplate pool;
  private final Map<String, BenchNode> nodes = new LinkedHashMap<>();
  private int nextNode;

  /** A running node: its type, zone and pods. */
  private static final class BenchNode {
    final String name;
    final InstanceOption type;
    final String zone;
    final Map<String, Pod> pods = new LinkedHashMap<>();
    final Map<String, String> labels;
    Resources requested = Resources.NONE;

    BenchNode(String name, InstanceOption type, String zone) {
      this.name = name;
      this.type = type;
      this.zone = zone;
      this.labels = Map.of(WellKnownLabels.NODEPOOL, POOL, WellKnownLabels.INSTANCE_TYPE, type.name(), WellKnownLabels.ZONE, zone,
          WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.ON_DEMAND, WellKnownLabels.HOSTNAME, name, WellKnownLabels.INITIALIZED, "true");
    }

    void add(Pod pod) {
      pods.put(pod.getMetadata().getUid(), new PodBuilder(pod).editSpec().withNodeName(name).endSpec().build());
      requested = requested.plus(Resources.requestsOf(pod));
    }

    double price() {
      return CATALOG.get(type.name()).orElseThrow().pricePerHour(CapacityType.ON_DEMAND, zone);
    }
  }

  ConsolidationBench(long seed) {
    this.random = new Random(seed);
    NodePool nodePool = NodePools.nodePool(p -> p.name(POOL),
        p -> p.disruption(new Disruption("0s", Disruption.ConsolidationPolicy.WhenEmptyOrUnderutilized, null)), p -> p.requirements(
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.ON_DEMAND),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.ARCH, "amd64"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_CATEGORY, "c", "m", "r"),
        new NodeSelectorRequirementWithMinValues(WellKnownLabels.INSTANCE_GENERATION, NodeSelectorRequirementWithMinValues.Operator.Gt, List.of("4"), null),
        new NodeSelectorRequirementWithMinValues(WellKnownLabels.INSTANCE_CPU, NodeSelectorRequirementWithMinValues.Operator.Lt, List.of("17"), null)));
    List<InstanceOption> options = InstanceOptions.from(CATALOG, Set.copyOf(ZONES), OptionalInt.empty(), (t, o) -> false);
    this.pool = Templates.build(nodePool, NodeClasses.nodeClass(), options, List.of(), List.of());
  }

  public static void main(String[] args) {
    int[] sizes = args.length > 0 ? Arrays.stream(args[0].split(",")).mapToInt(Integer::parseInt).toArray() : new int[] {1000, 5000};
    System.out.printf("Consolidation after a 40 %% scale-down, on %s%n%n", BenchReport.machine());
    new ConsolidationBench(7).run(200, false);  // warm the JIT
    System.out.println("| nodes (pods) at start | after scale-down: pods | passes | first pass ms | slowest pass ms | last pass ms (nothing to do) "
        + "| simulations in the last pass | nodes after | $/h before | $/h after | fresh scale-out $/h | after / fresh | packing bound $/h "
        + "| after / bound | peak heap MiB |");
    System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (int size : sizes) {
      new ConsolidationBench(size).run(size, true);
    }
  }

  /** Builds a cluster of about {@code size} nodes, scales it down and consolidates until nothing is left to do. */
  void run(int size, boolean print) {
    List<Pod> pods = new ArrayList<>();
    for (int i = 0; i < size * 20; i++) {
      int d = i % DEPLOYMENTS;
      int[] shape = SHAPES[d % SHAPES.length];
      pods.add(pod("d" + d + "-" + i, "d" + d, shape[0], shape[1]));
    }
    scaleOut(pods);
    int startNodes = nodes.size();
    int startPods = pods.size();
    // Scale down: 40 % of the pods go, at random.
    for (BenchNode n : nodes.values()) {
      List<String> uids = new ArrayList<>(n.pods.keySet());
      for (String uid : uids) {
        if (random.nextDouble() < 0.4) {
          Pod gone = n.pods.remove(uid);
          n.requested = n.requested.minus(Resources.requestsOf(gone));
        }
      }
    }
    int remaining = nodes.values().stream().mapToInt(n -> n.pods.size()).sum();
    double before = cost();
    BenchReport.resetPeakHeap();
    List<Long> passes = new ArrayList<>();
    int[] simulations = new int[1];
    while (true) {
      simulations[0] = 0;
      long t0 = System.nanoTime();
      Optional<Command> command = pass(simulations);
      passes.add(System.nanoTime() - t0);
      if (command.isEmpty() || passes.size() > 10_000) {
        break;
      }
      apply(command.get());
    }
    if (print) {
      double after = cost();
      double bound = bound();
      double fresh = freshPacking();
      long slowest = passes.stream().mapToLong(Long::longValue).max().orElse(0);
      System.out.printf("| %,d (%,d) | %,d | %,d | %,.0f | %,.0f | %,.0f | %,d | %,d | %.2f | %.2f | %.2f | %.3f | %.2f | %.3f | %,d |%n", startNodes,
          startPods, remaining, passes.size(), passes.get(0) / 1e6, slowest / 1e6, passes.get(passes.size() - 1) / 1e6, simulations[0], nodes.size(),
          before, after, fresh, after / fresh, bound, after / bound, BenchReport.peakHeapBytes() >> 20);
    }
  }

  /** The provisioner's plan for all pods from nothing: each new claim becomes a node of its cheapest type. */
  private void scaleOut(List<Pod> pods) {
    Simulator simulator = new Simulator(List.of(pool), Map.of(), capacity(), removed -> Simulator.PodRules.NONE, plan -> { });
    Provisioner.Plan plan = simulator.simulate(pods, Set.of());
    if (!plan.unschedulable().isEmpty()) {
      throw new IllegalStateException(plan.unschedulable().size() + " pods fit nowhere, such as " + plan.unschedulable().values().iterator().next());
    }
    for (NewClaim claim : plan.solution().newClaims()) {
      BenchNode n = launch(claim);
      claim.podUids().forEach(uid -> n.add(plan.pods().get(uid)));
    }
  }

  private BenchNode launch(NewClaim claim) {
    InstanceOption type = claim.cheapest();
    Offering offering = type.cheapestOffering(claim.requirements()).orElseThrow();
    BenchNode n = new BenchNode("n" + nextNode++, type, offering.zone());
    nodes.put(n.name, n);
    return n;
  }

  /** One disruption pass, as the orchestrator runs the graceful methods: the first with a command wins. */
  private Optional<Command> pass(int[] simulations) {
    List<Candidate> claims = nodes.values().stream().map(ConsolidationBench::candidate).toList();
    Map<String, Candidate> byName = new HashMap<>();
    claims.forEach(c -> byName.put(c.name(), c));
    Consolidator.Inputs inputs = new Consolidator.Inputs(() -> {
      Simulator simulator = new Simulator(List.of(pool), Map.of(), capacity(), removed -> Simulator.PodRules.NONE, plan -> { });
      return (pods, removed) -> {
        simulations[0]++;
        return simulator.simulate(pods, removed);
      };
    }, List::of, c -> Optional.of(nodes.get(c.name()).price()), name -> Optional.of(pool.pool()), ns -> List.of(), claim -> false,
        name -> Optional.empty(), pod -> 10, (c, why) -> { });
    Consolidator consolidator = new Consolidator(inputs, () -> false);
    Clock clock = Clock.systemUTC();
    List<Method> methods = List.of(new Emptiness(claim -> false), new Drift(consolidator), new MultiNodeConsolidation(consolidator, clock),
        new SingleNodeConsolidation(consolidator, clock));
    int initialized = claims.size();
    Map<Reason, Integer> allowed = new HashMap<>();
    for (Reason r : List.of(Reason.EMPTY, Reason.DRIFTED, Reason.UNDERUTILIZED)) {
      allowed.put(r, BudgetRules.allowed(BudgetRules.of(pool.pool()), r, initialized, NOW));
    }
    Budgets budgets = new Budgets(Map.of(POOL, allowed));
    methods.forEach(m -> m.beginPass(claims, NOW));
    for (Method m : methods) {
      List<Candidate> eligible = claims.stream().filter(c -> m.shouldDisrupt(c, NOW)).toList();
      if (eligible.isEmpty()) {
        continue;
      }
      List<Command> commands = m.computeCommands(budgets, eligible, NOW);
      if (!commands.isEmpty()) {
        return Optional.of(commands.get(0));
      }
    }
    return Optional.empty();
  }

  /** Carries a command out at once: the candidates go, their pods land where the simulation puts them. */
  private void apply(Command command) {
    Set<String> removed = new HashSet<>();
    List<Pod> moving = new ArrayList<>();
    for (Candidate c : command.candidates()) {
      removed.add(c.name());
      moving.addAll(nodes.get(c.name()).pods.values());
    }
    Simulator simulator = new Simulator(List.of(pool), Map.of(), capacity(), r -> Simulator.PodRules.NONE, plan -> { });
    Provisioner.Plan plan = simulator.simulate(moving, removed);
    if (!plan.unschedulable().isEmpty()) {
      throw new IllegalStateException("a command left pods without a home: " + plan.unschedulable());
    }
    removed.forEach(nodes::remove);
    Map<String, Pod> byUid = plan.pods();
    plan.solution().onExistingNodes().forEach((uid, node) -> nodes.get(node).add(byUid.get(uid)));
    for (NewClaim claim : plan.solution().newClaims()) {
      BenchNode n = launch(command.replacements().map(p -> p.solution().newClaims().get(0)).orElse(claim));
      claim.podUids().forEach(uid -> n.add(byUid.get(uid)));
    }
  }

  private Snapshot.Capacity capacity() {
    List<Snapshot.Capacity.Entry> entries = new ArrayList<>();
    List<Snapshot.Capacity.PlacedPod> placed = new ArrayList<>();
    for (BenchNode n : nodes.values()) {
      entries.add(new Snapshot.Capacity.Entry(SimNode.node(n.name, n.labels, List.of(), n.type.allocatable(), n.requested, Set.of()),
          Set.of(n.name), Map.of()));
      for (Pod p : n.pods.values()) {
        placed.add(new Snapshot.Capacity.PlacedPod(p.getMetadata().getUid(), new Scheduler.Placed(p.getMetadata().getNamespace(),
            p.getMetadata().getLabels(), n.labels)));
      }
    }
    return new Snapshot.Capacity(entries, placed);
  }

  private static Candidate candidate(BenchNode n) {
    NodeClaim claim = new NodeClaim();
    Map<String, String> labels = new HashMap<>(n.labels);
    claim.setMetadata(new ObjectMetaBuilder().withName(n.name).withCreationTimestamp(NOW.minus(Duration.ofHours(2)).toString())
        .withLabels(labels).build());
    claim.setSpec(new NodeClaimSpec(null, null, List.of(), null, null, null, "720h"));
    String t = NOW.minus(Duration.ofHours(1)).toString();
    claim.setStatus(new NodeClaimStatus(n.name, "sim://" + n.name, null, null, null, null, List.of(
        new Condition(ConditionTypes.CONSOLIDATABLE, Condition.Status.True, 1L, t, "Consolidatable", ""),
        new Condition(ConditionTypes.INITIALIZED, Condition.Status.True, 1L, t, "Initialized", ""))));
    Node node = new NodeBuilder().withNewMetadata().withName(n.name).withLabels(labels).endMetadata().withNewStatus()
        .withAllocatable(n.type.allocatable().toQuantities()).endStatus().build();
    return new Candidate(claim, Optional.of(node), List.copyOf(n.pods.values()));
  }

  private static Pod pod(String name, String app, int cpuMillis, int memoryMib) {
    return new PodBuilder().withNewMetadata().withName(name).withNamespace("bench").withUid(name).withLabels(Map.of("app", app))
        .withCreationTimestamp(NOW.minus(Duration.ofHours(3)).toString()).endMetadata()
        .withNewSpec().addNewContainer().withName("c").withImage("i").withNewResources()
        .addToRequests("cpu", new Quantity(cpuMillis + "m")).addToRequests("memory", new Quantity(memoryMib + "Mi")).endResources().endContainer()
        .endSpec().withNewStatus().withPhase("Running").endStatus().build();
  }

  /** What the provisioner would buy for the pods left if it started from nothing: its plan, each claim at its cheapest type. */
  private double freshPacking() {
    List<Pod> all = nodes.values().stream().flatMap(n -> n.pods.values().stream()).toList();
    Provisioner.Plan plan = new Simulator(List.of(pool), Map.of(), new Snapshot.Capacity(List.of(), List.of()), r -> Simulator.PodRules.NONE,
        p -> { }).simulate(all, Set.of());
    return plan.solution().newClaims().stream().mapToDouble(c -> c.cheapest().cheapestPrice(c.requirements())).sum();
  }

  private double cost() {
    return nodes.values().stream().mapToDouble(BenchNode::price).sum();
  }

  /**
   * The cheapest fractional mix of the pool's types (cheapest zone each) whose allocatable CPU and memory
   * cover the pods' requests: the optimum of a linear program with two constraints is at a vertex using at
   * most two types, so single types and pairs are all there is to try.
   */
  private double bound() {
    Resources need = nodes.values().stream().map(n -> n.requested).reduce(Resources.NONE, Resources::plus);
    double cpu = need.cpuMillis();
    double mem = need.memoryBytes();
    Requirements od = pool.template().requirements().and(Requirement.in(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.ON_DEMAND));
    List<double[]> types = new ArrayList<>();
    for (InstanceOption o : pool.template().options()) {
      if (o.requirements().intersects(pool.template().requirements()) && o.offerable(od)) {
        types.add(new double[] {o.cheapestPrice(od), o.allocatable().cpuMillis(), o.allocatable().memoryBytes()});
      }
    }
    types.sort(Comparator.comparingDouble(t -> t[0]));
    double best = Double.POSITIVE_INFINITY;
    for (double[] t : types) {
      best = Math.min(best, t[0] * Math.max(cpu / t[1], mem / t[2]));
    }
    for (int i = 0; i < types.size(); i++) {
      for (int j = i + 1; j < types.size(); j++) {
        double[] a = types.get(i);
        double[] b = types.get(j);
        double det = a[1] * b[2] - b[1] * a[2];
        if (det == 0) {
          continue;
        }
        double x = (cpu * b[2] - b[1] * mem) / det;
        double y = (a[1] * mem - cpu * a[2]) / det;
        if (x >= 0 && y >= 0) {
          best = Math.min(best, a[0] * x + b[0] * y);
        }
      }
    }
    return best;
  }
}
