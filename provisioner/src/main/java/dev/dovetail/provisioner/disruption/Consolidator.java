package dev.dovetail.provisioner.disruption;

import dev.dovetail.api.config.v1alpha1.PodEvictor;
import dev.dovetail.api.disruption.Drain;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.Disruption;
import dev.dovetail.api.karpenter.v1.Durations;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.InstanceOption;
import dev.dovetail.api.scheduling.NewClaim;
import dev.dovetail.api.scheduling.Requirement;
import dev.dovetail.api.scheduling.Requirements;
import dev.dovetail.api.scheduling.Selectors;
import dev.dovetail.api.scheduling.Solution;
import dev.dovetail.api.scheduling.Unschedulable;
import dev.dovetail.provisioner.nodeclaim.NodeClaims;
import dev.dovetail.provisioner.provisioning.Provisioner;
import dev.dovetail.provisioner.provisioning.Simulator;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;

/**
 * What multi-node and single-node consolidation share, as Karpenter's consolidation has it: which
 * claims may be consolidated at all, in which order (savings per disruption cost), and the move for a
 * given set of candidates, decided by the provisioner's own scheduling simulation run without them:
 * every pod they run must find room elsewhere (existing nodes, claims in flight, or exactly one new
 * claim), and a new claim is kept only on instance types cheaper than the candidates together. A
 * replacement that could be spot is spot, so a spot shortage never turns into a pricier on-demand
 * node; spot candidates are replaced by spot only with spot-to-spot consolidation on and, for a single
 * node, at least {@value #SPOT_TO_SPOT_MIN_TYPES} cheaper spot types to launch from.
 */
public final class Consolidator {
  /** Karpenter's floor of cheaper spot types for replacing one spot node with another. */
  public static final int SPOT_TO_SPOT_MIN_TYPES = 15;

  /** The provisioner's simulation over one read of the cluster: place these pods with these nodes and claims gone. */
  public interface Simulation {
    Provisioner.Plan simulate(List<Pod> pods, Set<String> removed);

    /**
     * As {@link #simulate}, but governed pods leaving a removed fallback node need spot and none falls back
     * (reverse fallback); a simulation that cannot tell says so.
     */
    default Provisioner.Plan simulateBackToSpot(List<Pod> pods, Set<String> removed) {
      throw new UnsupportedOperationException("this simulation cannot place pods back on spot");
    }

    /** Whether the node or claim of this name takes pods now (Initialized); a simulation that cannot tell says yes. */
    default boolean initialized(String node) {
      return true;
    }

    /** The provisioner's simulator as consolidation asks it. */
    static Simulation of(Simulator simulator) {
      return new Simulation() {
        @Override
        public Provisioner.Plan simulate(List<Pod> pods, Set<String> removed) {
          return simulator.simulate(pods, removed);
        }

        @Override
        public Provisioner.Plan simulateBackToSpot(List<Pod> pods, Set<String> removed) {
          return simulator.simulateBackToSpot(pods, removed);
        }

        @Override
        public boolean initialized(String node) {
          return simulator.initialized(node);
        }
      };
    }
  }

  /**
   * Where consolidation reads the cluster and says why it leaves a node alone.
   *
   * @param snapshot a simulation over the cluster as it is now (read once, simulated on many times in a pass)
   * @param pending the pods a provisioning pass would look for capacity for now
   * @param evictor the ClusterOrchestratorConfig's pod evictor rules for a NodePool it manages
   * @param replicas how many replicas a pod's workload asks for (1 for a bare pod)
   */
  public record Inputs(Supplier<Simulation> snapshot, Supplier<List<Pod>> pending, Function<Candidate, Optional<Double>> price,
      Function<String, Optional<NodePool>> pools, Function<String, List<PodDisruptionBudget>> disruptionBudgets, Predicate<String> nominated,
      Function<String, Optional<PodEvictor>> evictor, ToIntFunction<Pod> replicas, BiConsumer<Candidate, Unconsolidatable> report) {
  }

  /** The move consolidation found for some candidates, or why there is none. */
  public sealed interface Move {
    /** Delete the candidates: their pods fit elsewhere as things are. */
    record Delete(List<Candidate> candidates, double savings) implements Move {
    }

    /** Replace the candidates with the plan's one new claim, cheaper than they are together. */
    record Replace(List<Candidate> candidates, Provisioner.Plan plan, double savings) implements Move {
    }

    record None(Unconsolidatable why) implements Move {
    }
  }

  private final Inputs inputs;
  private final BooleanSupplier spotToSpot;
  /** The pass's view of each pool: its price per hour and disruption cost in total (for Balanced). */
  private Map<String, double[]> poolTotals = Map.of();
  /** The pass's read of the cluster, taken at its first simulation: every move of a pass is weighed against the same one. */
  private Simulation view;
  private List<Pod> pending;

  /** @param spotToSpot whether spot nodes may be replaced with spot now (the feature gate, or the ClusterOrchestratorConfig) */
  public Consolidator(Inputs inputs, BooleanSupplier spotToSpot) {
    this.inputs = inputs;
    this.spotToSpot = spotToSpot;
  }

  /** Takes in the pass's claims (all of them): the pools' totals that {@code Balanced} weighs a move against. */
  void beginPass(List<Candidate> claims, Instant now) {
    freshView();
    Map<String, double[]> totals = new HashMap<>();
    for (Candidate c : claims) {
      if (c.node().isEmpty() || NodeClaims.deleting(c.claim())) {
        continue;
      }
      double[] t = totals.computeIfAbsent(c.nodePool(), k -> new double[2]);
      t[0] += inputs.price().apply(c).orElse(0.0);
      t[1] += disruptionCost(c, now);
    }
    poolTotals = totals;
  }

  /**
   * Whether consolidation considers the candidate: its pool consolidates when underutilized, the claim is
   * Consolidatable, its node is known with a price, nothing on it forbids a move (node or pod
   * {@code do-not-disrupt}, a PodDisruptionBudget that allows no disruption or more than one budget
   * over a pod), it meets the pod evictor's rules when a ClusterOrchestratorConfig manages its pool, and
   * no pending pod was just planned on it. A pod-level or evictor blocker is reported.
   */
  public boolean eligible(Candidate c, Instant now) {
    if (outOfReach(c) || !NodeClaims.isTrue(c.claim(), ConditionTypes.CONSOLIDATABLE) || !underutilizedAllowed(c)) {
      return false;
    }
    Optional<Unconsolidatable> blocked = blocker(c, now);
    blocked.ifPresent(why -> inputs.report().accept(c, why));
    return blocked.isEmpty();
  }

  /**
   * Whether no graceful method that moves pods (consolidation, drift, reverse fallback) may take the
   * candidate now: it has no node, is going already, carries {@code do-not-disrupt} (node or claim), or
   * pending pods were just planned on it.
   */
  boolean outOfReach(Candidate c) {
    return c.node().isEmpty() || NodeClaims.deleting(c.claim()) || Emptiness.doNotDisrupt(c) || inputs.nominated().test(c.name());
  }

  private boolean underutilizedAllowed(Candidate c) {
    Disruption.ConsolidationPolicy policy = inputs.pools().apply(c.nodePool()).map(p -> p.getSpec().disruption())
        .map(Disruption::consolidationPolicy).orElse(Disruption.ConsolidationPolicy.WhenEmptyOrUnderutilized);
    return policy != Disruption.ConsolidationPolicy.WhenEmpty;
  }

  private Optional<Unconsolidatable> blocker(Candidate c, Instant now) {
    if (inputs.price().apply(c).isEmpty()) {
      return Optional.of(new Unconsolidatable.PriceUnknown());
    }
    Optional<Unconsolidatable> pod = podBlocker(c, inputs.disruptionBudgets(), now).map(u -> u);
    return pod.isPresent() ? pod : evictor(c).flatMap(rules -> EvictorRules.blocker(c, rules, inputs.replicas()));
  }

  /** The pod evictor rules the candidate's pool is under, if a ClusterOrchestratorConfig manages it. */
  Optional<PodEvictor> evictor(Candidate c) {
    return inputs.evictor().apply(c.nodePool());
  }

  /**
   * A pod of the candidate that must not be moved now: {@code karpenter.sh/do-not-disrupt}, a
   * PodDisruptionBudget that allows no disruption, or more than one budget over it (the Eviction API
   * refuses those).
   */
  static Optional<Unconsolidatable.PodBlocked> podBlocker(Candidate c, Function<String, List<PodDisruptionBudget>> budgets, Instant now) {
    for (Pod p : moving(c)) {
      String name = p.getMetadata().getNamespace() + "/" + p.getMetadata().getName();
      if (Drain.doNotDisrupt(p, now)) {
        return Optional.of(new Unconsolidatable.PodBlocked(name, "has \"" + Drain.DO_NOT_DISRUPT + "\" annotation"));
      }
      List<PodDisruptionBudget> covering = budgets.apply(p.getMetadata().getNamespace()).stream()
          .filter(b -> b.getSpec() != null && b.getSpec().getSelector() != null
              && Selectors.matches(b.getSpec().getSelector(), p.getMetadata().getLabels() == null ? Map.of() : p.getMetadata().getLabels()))
          .toList();
      if (covering.size() > 1) {
        return Optional.of(new Unconsolidatable.PodBlocked(name, "is covered by more than one PodDisruptionBudget"));
      }
      if (covering.size() == 1 && (covering.get(0).getStatus() == null || covering.get(0).getStatus().getDisruptionsAllowed() == null
          || covering.get(0).getStatus().getDisruptionsAllowed() <= 0)) {
        return Optional.of(new Unconsolidatable.PodBlocked(name,
            "PodDisruptionBudget " + covering.get(0).getMetadata().getName() + " prevents pod evictions"));
      }
    }
    return Optional.empty();
  }

  /** The pods that would need a new home if the candidate went. */
  static List<Pod> moving(Candidate c) {
    return c.moving();
  }

  /**
   * Karpenter's ordering input: the eviction cost of the candidate's pods (1 each, more for a higher
   * {@code controller.kubernetes.io/pod-deletion-cost} or priority, within ±10), scaled by the share of
   * the claim's {@code expireAfter} still ahead (a node about to expire anyway costs little to move).
   */
  static double disruptionCost(Candidate c, Instant now) {
    double cost = 0;
    for (Pod p : moving(c)) {
      double pod = 1;
      String deletionCost = p.getMetadata().getAnnotations() == null ? null : p.getMetadata().getAnnotations().get("controller.kubernetes.io/pod-deletion-cost");
      if (deletionCost != null) {
        try {
          pod += Integer.parseInt(deletionCost.trim()) / Math.pow(2, 27);
        } catch (NumberFormatException e) {
          // not a number: the annotation counts for nothing, as for the ReplicaSet controller
        }
      }
      if (p.getSpec() != null && p.getSpec().getPriority() != null) {
        pod += p.getSpec().getPriority() / Math.pow(2, 25);
      }
      cost += Math.max(-10, Math.min(10, pod));
    }
    Optional<Duration> left = Expiration.remaining(c.claim(), now);
    Optional<Duration> lifetime = Optional.ofNullable(c.claim().getSpec().expireAfter()).flatMap(Consolidator::lifetime);
    if (left.isPresent() && lifetime.isPresent() && !lifetime.get().isZero()) {
      cost *= Math.max(0, Math.min(1, (double) left.get().toSeconds() / lifetime.get().toSeconds()));
    }
    return cost;
  }

  private static Optional<Duration> lifetime(String expireAfter) {
    try {
      return Durations.parse(expireAfter);
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  /** Candidates best first: most savings per unit of disruption cost (Karpenter v1.14), then by name for a stable order. */
  List<Candidate> sorted(List<Candidate> candidates, Instant now) {
    Map<String, Double> key = new HashMap<>();
    for (Candidate c : candidates) {
      double price = inputs.price().apply(c).orElse(0.0);
      key.put(c.name(), price / Math.max(0.01, disruptionCost(c, now)));
    }
    List<Candidate> out = new ArrayList<>(candidates);
    out.sort(Comparator.comparing((Candidate c) -> -key.get(c.name())).thenComparing(Candidate::name));
    return out;
  }

  /** Karpenter's multi-node rule: the price a replacement must stay under when it could be of a type some candidate already is. */
  private static double sameTypeCeiling(List<Candidate> candidates, List<InstanceOption> options, Map<String, Double> prices) {
    Map<String, Double> cheapestByType = new HashMap<>();
    for (Candidate c : candidates) {
      String type = NodeClaims.label(c.claim(), WellKnownLabels.INSTANCE_TYPE);
      cheapestByType.merge(type, prices.getOrDefault(c.name(), Double.POSITIVE_INFINITY), Math::min);
    }
    return options.stream().map(InstanceOption::name).filter(cheapestByType::containsKey).mapToDouble(cheapestByType::get).min()
        .orElse(Double.POSITIVE_INFINITY);
  }

  /** A move as the pass's command (none for {@link Move.None}). */
  static Optional<Command> command(Move move) {
    if (move instanceof Move.Delete d) {
      return Optional.of(Command.delete(Reason.UNDERUTILIZED, d.candidates()));
    }
    if (move instanceof Move.Replace r) {
      return Optional.of(new Command(Reason.UNDERUTILIZED, r.candidates(), Optional.of(r.plan()), true));
    }
    return Optional.empty();
  }

  void report(Candidate candidate, Unconsolidatable why) {
    inputs.report().accept(candidate, why);
  }

  /** Forgets the pass's read of the cluster: the next simulation reads it again. */
  void freshView() {
    view = null;
    pending = null;
  }

  Inputs inputs() {
    return inputs;
  }

  /** The move for exactly these candidates: simulated without them, with the pending pods competing for the same room. */
  Move evaluate(List<Candidate> candidates, boolean single, Instant now) {
    Map<String, Double> prices = new HashMap<>();
    double price = 0;
    for (Candidate c : candidates) {
      double each = inputs.price().apply(c).orElse(Double.POSITIVE_INFINITY);
      prices.put(c.name(), each);
      price += each;
    }
    Move move = decide(candidates, price, prices, rehome(candidates), spotToSpot.getAsBoolean(), single);
    return balanced(move, now);
  }

  /**
   * The simulation's plan for the pods that would move (by UID) with their nodes gone, and which of the
   * nodes and claims it placed them on take pods now.
   */
  record Rehoming(Provisioner.Plan plan, Set<String> moving, Predicate<String> initialized) {
    /**
     * Whether every moving pod found room it can run in now: placed, and not on a node or claim that is not
     * Initialized yet (Karpenter's rule: the pod would wait pending there while it boots).
     */
    boolean allPlaced() {
      return blocked().isEmpty();
    }

    /** The first moving pod that cannot go (its namespace/name, or UID), with why. */
    Optional<Unconsolidatable.PodWouldNotSchedule> blocked() {
      for (String uid : moving) {
        Unschedulable why = plan.unschedulable().get(uid);
        String target = plan.solution().onExistingNodes().get(uid);
        if (why == null && (target == null || initialized.test(target))) {
          continue;
        }
        Pod pod = plan.pods().get(uid);
        String name = pod == null ? uid : pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
        return Optional.of(new Unconsolidatable.PodWouldNotSchedule(name, why != null ? why.message() : "would schedule against uninitialized "
            + target));
      }
      return Optional.empty();
    }

    /** The new claims the moving pods need (claims only pending pods need are the provisioner's). */
    List<NewClaim> claims() {
      return plan.solution().newClaims().stream().filter(c -> c.podUids().stream().anyMatch(moving::contains)).toList();
    }
  }

  /**
   * Places the candidates' pods anew without the candidates (their nodes and claims), the pending pods
   * competing for the same room: what consolidation and drift both decide on. The cluster is read at the
   * pass's first simulation and reused by the rest.
   */
  Rehoming rehome(List<Candidate> candidates) {
    return rehome(candidates, false);
  }

  /** {@link #rehome(List)}; with {@code backToSpot}, the governed pods of fallback candidates need spot and nothing falls back. */
  Rehoming rehome(List<Candidate> candidates, boolean backToSpot) {
    if (view == null) {
      view = inputs.snapshot().get();
      pending = inputs.pending().get();
    }
    Set<String> removed = new HashSet<>();
    List<Pod> pods = new ArrayList<>();
    for (Candidate c : candidates) {
      removed.add(c.name());
      c.node().ifPresent(n -> removed.add(n.getMetadata().getName()));
      pods.addAll(moving(c));
    }
    Set<String> movingUids = new HashSet<>();
    pods.forEach(p -> movingUids.add(p.getMetadata().getUid()));
    pending.stream().filter(p -> !movingUids.contains(p.getMetadata().getUid())).forEach(pods::add);
    Simulation simulation = view;
    return new Rehoming(backToSpot ? view.simulateBackToSpot(pods, removed) : view.simulate(pods, removed), movingUids, simulation::initialized);
  }

  /** {@code Balanced} pools take a move only when its share of the pool's savings is at least half its share of the pool's disruption. */
  private Move balanced(Move move, Instant now) {
    if (move instanceof Move.None) {
      return move;
    }
    List<Candidate> candidates = move instanceof Move.Delete d ? d.candidates() : ((Move.Replace) move).candidates();
    String pool = candidates.get(0).nodePool();
    boolean isBalanced = inputs.pools().apply(pool).map(p -> p.getSpec().disruption()).map(Disruption::consolidationPolicy)
        .filter(p -> p == Disruption.ConsolidationPolicy.Balanced).isPresent();
    double[] totals = poolTotals.get(pool);
    if (!isBalanced || totals == null || totals[0] <= 0 || totals[1] <= 0) {
      return move;
    }
    double savings = move instanceof Move.Delete d ? d.savings() : ((Move.Replace) move).savings();
    double disruption = candidates.stream().mapToDouble(c -> disruptionCost(c, now)).sum();
    double savingsShare = savings / totals[0];
    double disruptionShare = disruption / totals[1];
    if (disruptionShare > 0 && savingsShare / disruptionShare < 0.5) {
      return new Move.None(new Unconsolidatable.NotWorthTheDisruption(savingsShare, disruptionShare));
    }
    return move;
  }

  /**
   * The pure decision, from the simulation's plan: every moving pod placed, none on a node not Initialized yet
   * (see {@link Rehoming#blocked}); no new claim → delete; more
   * than one claim for moving pods → nothing; one → replace, on instance types cheaper than
   * {@code price} (the candidates' together), spot when spot is possible, and under the spot-to-spot
   * rules when every candidate is spot. Claims only pending pods need are left to the provisioner. Of
   * several candidates, a replacement may not be of a type one of them already is unless it is cheaper
   * than the cheapest candidate of that type (else deleting fewer nodes does the same for less churn).
   *
   * @param prices each candidate's price by claim name
   */
  static Move decide(List<Candidate> candidates, double price, Map<String, Double> prices, Rehoming rehoming, boolean spotToSpot, boolean single) {
    if (Double.isInfinite(price)) {
      return new Move.None(new Unconsolidatable.PriceUnknown());
    }
    Provisioner.Plan plan = rehoming.plan();
    Optional<Unconsolidatable.PodWouldNotSchedule> blocked = rehoming.blocked();
    if (blocked.isPresent()) {
      return new Move.None(blocked.get());
    }
    List<NewClaim> claims = rehoming.claims();
    if (claims.isEmpty()) {
      return new Move.Delete(candidates, price);
    }
    if (claims.size() > 1) {
      return new Move.None(new Unconsolidatable.MoreThanOneReplacement(claims.size()));
    }
    NewClaim claim = claims.get(0);
    boolean allSpot = candidates.stream().allMatch(c -> WellKnownLabels.SPOT.equals(c.capacityType()));
    Requirements requirements = claim.requirements();
    Requirements spotOnly = requirements.and(Requirement.in(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.SPOT));
    boolean spot = claim.options().stream().anyMatch(o -> o.offerable(spotOnly));
    if (spot) {
      requirements = spotOnly;
    }
    if (allSpot && spot && !spotToSpot) {
      return new Move.None(new Unconsolidatable.SpotToSpotDisabled());
    }
    Requirements chosen = requirements;
    double ceiling = single ? price : Math.min(price, sameTypeCeiling(candidates, claim.options(), prices));
    List<InstanceOption> cheaper = claim.options().stream().filter(o -> o.cheapestPrice(chosen) < ceiling)
        .sorted(Comparator.comparingDouble(o -> o.cheapestPrice(chosen))).toList();
    if (cheaper.isEmpty()) {
      return new Move.None(new Unconsolidatable.NoCheaperReplacement(price));
    }
    if (allSpot && spot && single) {
      if (cheaper.size() < SPOT_TO_SPOT_MIN_TYPES) {
        return new Move.None(new Unconsolidatable.TooFewCheaperSpotTypes(cheaper.size(), SPOT_TO_SPOT_MIN_TYPES));
      }
      cheaper = cheaper.subList(0, SPOT_TO_SPOT_MIN_TYPES);
    }
    NewClaim replacement = new NewClaim(claim.template(), chosen, cheaper, claim.requests(), claim.podUids());
    return new Move.Replace(candidates, only(plan, List.of(replacement)), price - cheaper.get(0).cheapestPrice(chosen));
  }

  /** The plan launching only {@code claims} (the others' pods are the provisioner's). */
  static Provisioner.Plan only(Provisioner.Plan plan, List<NewClaim> claims) {
    return new Provisioner.Plan(new Solution(plan.solution().onExistingNodes(), claims, Map.of()), plan.pools(), plan.pods(), plan.spreading(),
        plan.strategies(), Map.of(), plan.fellBack(), plan.poolsNotReady(), plan.simulation());
  }
}
