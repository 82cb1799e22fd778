package dev.dovetail.provisioner.provisioning;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.ClaimTemplate;
import dev.dovetail.api.scheduling.InstanceOption;
import dev.dovetail.api.scheduling.NewClaim;
import dev.dovetail.api.scheduling.Solution;
import dev.dovetail.api.scheduling.Unschedulable;
import dev.dovetail.provisioner.cloud.CloudProvider;
import dev.dovetail.provisioner.cluster.Caches;
import dev.dovetail.provisioner.controller.Reconciliation;
import dev.dovetail.provisioner.kube.Conditions;
import dev.dovetail.provisioner.metrics.KarpenterMetrics;
import dev.dovetail.provisioner.nodeclaim.NodeClaims;
import dev.dovetail.runtime.Recorder;
import dev.dovetail.runtime.events.EventRecorder;
import dev.dovetail.state.Governance;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One provisioning pass, as Karpenter's provisioner runs it after each batch: take the pending pods,
 * give each governed pod the capacity type the shared distribution decision prefers for it, simulate
 * scheduling over existing nodes, in-flight NodeClaims and the ready NodePools by weight, create the
 * new NodeClaims in parallel, and tell each pod (events) where it should land or why it cannot. The
 * simulation and the launch are also what disruption asks for when pods need a new home before their
 * node goes ({@link #simulate}, {@link #launch}); {@link #exclusive} keeps such a pass and a
 * provisioning pass from planning on the same room at once.
 */
public final class Provisioner {
  private static final Logger LOG = LoggerFactory.getLogger(Provisioner.class);
  public static final int MAX_INSTANCE_TYPES = 60;

  /** A pass runs at least this often, batch or not (a pod whose earlier pass failed is looked at again). */
  public static final Duration PERIOD = Duration.ofSeconds(30);

  private final KubernetesClient client;
  private final Caches caches;
  private final CloudProvider cloud;
  private final CapacityTypes capacityTypes;
  private final Recorder events;
  /** Nominated events share Karpenter's limit: 5 a second, burst 10. */
  private final EventRecorder.RateLimit nominations = new EventRecorder.RateLimit(5, 10);
  private final KarpenterMetrics metrics;
  private final Set<String> schedulerNames;
  private final ExecutorService writers;
  private final ReentrantLock passes = new ReentrantLock();
  private final AtomicInteger lastUnschedulable = new AtomicInteger();
  /** The last simulation's pending pods, labelled with its id as Karpenter's scheduling_id. */
  private final MultiGauge queueDepth;
  /** How long a claim the last pass planned pods on counts as nominated (Karpenter: max(2 × batch max, 10 s)). */
  public static final Duration NOMINATION_WINDOW = Duration.ofSeconds(20);

  /** The last pass's plan: pending pod UID to the NodeClaim it was planned on (new, or in flight). */
  private volatile Map<String, String> plannedOnClaims = Map.of();
  /** The claims (and nodes' claims) the last pass planned pods on, and when. */
  private volatile Set<String> nominatedClaims = Set.of();
  private volatile long plannedNanos;

  public Provisioner(KubernetesClient client, Caches caches, CloudProvider cloud, Governance governance, Recorder events,
      KarpenterMetrics metrics, Set<String> schedulerNames, ExecutorService writers) {
    this.client = client;
    this.caches = caches;
    this.cloud = cloud;
    this.capacityTypes = new CapacityTypes(governance, node -> caches.node(node).map(n -> n.getMetadata().getLabels() == null ? Map.<String, String>of() : n.getMetadata().getLabels()));
    this.events = events;
    this.metrics = metrics;
    this.schedulerNames = Set.copyOf(schedulerNames);
    this.writers = writers;
    Gauge.builder("karpenter.scheduler.unschedulable.pods.count", lastUnschedulable, AtomicInteger::get)
        .description("Pods the last simulation could not place.").tag("controller", "provisioner").register(metrics.registry());
    this.queueDepth = MultiGauge.builder("karpenter.scheduler.queue.depth").description("Pending pods in the last simulation.")
        .register(metrics.registry());
  }

  /** What a pass did. */
  public record Outcome(int pendingPods, int onExistingCapacity, List<String> createdClaims, Map<String, String> unschedulable,
      Map<String, String> poolsNotReady, Duration simulation) {
    public static Outcome notSynced() {
      return new Outcome(0, 0, List.of(), Map.of(), Map.of(), Duration.ZERO);
    }
  }

  /**
   * A simulation's answer and what launching it needs: the pools it planned from, the pods by UID,
   * which pods are under topology spread (they get hints rather than nominations), the distribution
   * strategy of each governed pod, and why spot could not hold the governed pods that fell back to on-demand.
   */
  public record Plan(Solution solution, Map<String, Templates.PoolTemplate> pools, Map<String, Pod> pods, Set<String> spreading,
      Map<String, String> strategies, Map<String, Unschedulable> rejected, Map<String, Unschedulable> spotUnavailable,
      Map<String, String> poolsNotReady, Duration simulation) {
    /** Pods that fit nowhere (with the reason), unreadable ones included; for one that could not fall back either, why spot failed. */
    public Map<String, Unschedulable> unschedulable() {
      Map<String, Unschedulable> out = new LinkedHashMap<>(rejected);
      solution.unschedulable().forEach((uid, why) -> out.put(uid, spotUnavailable.getOrDefault(uid, why)));
      return out;
    }

    /** The governed pods placed on on-demand capacity standing in for spot, with why spot could not hold them. */
    public Map<String, Unschedulable> fellBack() {
      Map<String, Unschedulable> out = new LinkedHashMap<>(spotUnavailable);
      out.keySet().removeAll(solution.unschedulable().keySet());
      return out;
    }
  }

  /** Runs {@code work} with no other pass planning at the same time (passes read and then claim the same room). */
  public <T> T exclusive(Supplier<T> work) {
    passes.lock();
    try {
      return work.get();
    } finally {
      passes.unlock();
    }
  }

  /** One provisioning pass; its lines carry the pass's {@code context} (the provisioner singleton's). */
  public Outcome provision(Reconciliation context) {
    return exclusive(() -> provisionPass(context));
  }

  private Outcome provisionPass(Reconciliation context) {
    if (!caches.synced()) {
      return Outcome.notSynced();
    }
    List<Pod> pending = pendingPods();
    // Karpenter's series is the pass's own (a scheduling_id each) and goes when nothing waits: no series per idle pass.
    queueDepth.register(pending.isEmpty() ? List.of()
        : List.of(MultiGauge.Row.of(Tags.of("controller", "provisioner", "scheduling_id", UUID.randomUUID().toString()), pending.size())), true);
    if (pending.isEmpty()) {
      lastUnschedulable.set(0);
      Map<String, String> poolsNotReady = new LinkedHashMap<>();
      readyPools(poolsNotReady);
      return new Outcome(0, 0, List.of(), Map.of(), poolsNotReady, Duration.ZERO);
    }
    Plan plan = simulate(pending);
    Map<NewClaim, String> launched = launchGroup(plan, context);
    List<String> created = List.copyOf(launched.values());
    remember(plan, launched);
    plan.solution().onExistingNodes().forEach((uid, node) -> {
      Pod pod = plan.pods().get(uid);
      if (pod != null) {
        events.normal(pod, "Nominated", "Pod should schedule on: " + (caches.nodeClaim(node).isPresent() ? "nodeclaim/" : "node/") + node,
            nominations);
      }
    });
    Map<String, String> unschedulable = new LinkedHashMap<>();
    plan.unschedulable().forEach((uid, reason) -> {
      unschedulable.put(uid, reason.message());
      Pod pod = plan.pods().get(uid);
      if (pod != null) {
        events.warning(pod, "FailedScheduling", "Failed to schedule pod, " + reason.message());
        Counter.builder("dovetail.provisioner.unschedulable.pods").description("Pods a provisioning simulation could place nowhere, by why")
            .tag("reason", reason.category().label()).register(metrics.registry()).increment();
      }
    });
    lastUnschedulable.set(unschedulable.size());
    if (!unschedulable.isEmpty()) {
      context.atInfo(LOG).log("pods that fit nowhere: {}", unschedulable.entrySet().stream().limit(3)
          .map(e -> podName(plan.pods().get(e.getKey())) + ": " + e.getValue()).toList());
    }
    context.atInfo(LOG).log("provisioning: {} pending pods, {} fit existing or in-flight capacity, {} new NodeClaims, {} unschedulable (simulated in {} ms)",
        pending.size(), plan.solution().onExistingNodes().size(), created.size(), unschedulable.size(), plan.simulation().toMillis());
    return new Outcome(pending.size(), plan.solution().onExistingNodes().size(), created, unschedulable, plan.poolsNotReady(),
        plan.simulation());
  }

  /**
   * Whether the last pass planned this pending pod on a NodeClaim whose node is not ready for pods yet
   * (not Initialized). Its updates until then (kube-scheduler rewriting why it cannot place it, as every
   * new node changes the message) ask for nothing new: capacity is on its way, and a pass for them would
   * only hold the batch window open for pods that are really new. Once the claim is Initialized, or gone,
   * the pod counts as pending again.
   */
  public boolean awaitingCapacity(String podUid) {
    String claim = plannedOnClaims.get(podUid);
    return claim != null && caches.nodeClaim(claim).filter(c -> !NodeClaims.deleting(c) && !NodeClaims.isTrue(c, ConditionTypes.INITIALIZED))
        .isPresent();
  }

  /**
   * Whether the last pass planned pending pods on this claim (or its node), less than
   * {@link #NOMINATION_WINDOW} ago or less than that since the claim was Initialized (a node that took
   * minutes to boot is still expected): they are on their way, so the node is not idle, whatever runs
   * there now.
   */
  public boolean nominated(String claim) {
    if (!nominatedClaims.contains(claim)) {
      return false;
    }
    if (System.nanoTime() - plannedNanos < NOMINATION_WINDOW.toNanos()) {
      return true;
    }
    return caches.nodeClaim(claim).flatMap(c -> Conditions.get(NodeClaims.conditions(c), ConditionTypes.INITIALIZED)).filter(Condition::isTrue)
        .map(c -> Instant.parse(c.lastTransitionTime()).plus(NOMINATION_WINDOW).isAfter(Instant.now())).orElse(true);
  }

  private void remember(Plan plan, Map<NewClaim, String> launched) {
    Map<String, String> planned = new HashMap<>();
    Set<String> nominated = new HashSet<>();
    plan.solution().onExistingNodes().forEach((uid, node) -> {
      if (caches.nodeClaim(node).isPresent()) {
        planned.put(uid, node);
        nominated.add(node);
      } else {
        caches.nodeClaimOfNode(node).ifPresent(c -> nominated.add(c.getMetadata().getName()));
      }
    });
    launched.forEach((claim, name) -> claim.podUids().forEach(uid -> planned.put(uid, name)));
    nominated.addAll(launched.values());
    plannedOnClaims = planned;
    nominatedClaims = nominated;
    plannedNanos = System.nanoTime();
  }

  /**
   * Simulates placing {@code pods} (pending ones, or ones on nodes about to go) on existing nodes,
   * in-flight NodeClaims and new claims from the ready NodePools. Capacity is read first, then the pods
   * are placed: a node that appears in between makes us launch less, never more. Pods simulated here hold
   * no room where they were nominated: they are being placed anew. Call it inside {@link #exclusive}
   * when its plan is going to be launched.
   */
  public Plan simulate(List<Pod> pods) {
    return simulate(pods, Set.of());
  }

  /** The pods a provisioning pass would look for capacity for now. */
  public List<Pod> pendingPods() {
    return caches.pods().stream().filter(p -> PendingPods.provisionable(p, schedulerNames)).collect(Collectors.toCollection(ArrayList::new));
  }

  /**
   * {@link #simulate(List)} without some of the capacity: the nodes and NodeClaims named in
   * {@code removed} (disruption candidates) hold nothing. A governed pod that runs on a removed node keeps
   * its capacity type, so moving it never changes its workload's spot/on-demand split.
   */
  public Plan simulate(List<Pod> pods, Set<String> removed) {
    return simulator().simulate(pods, removed);
  }

  /**
   * The ready pools and the capacity read now, to simulate on many times: a disruption pass weighs
   * many sets of candidates against one read of the cluster.
   */
  public Simulator simulator() {
    Map<String, String> poolsNotReady = new LinkedHashMap<>();
    List<Templates.PoolTemplate> pools = readyPools(poolsNotReady);
    Map<String, ClaimTemplate> byPool = new HashMap<>();
    pools.forEach(p -> byPool.put(p.pool().getMetadata().getName(), p.template()));
    Snapshot.Capacity capacity = Snapshot.of(caches, byPool);
    return new Simulator(pools, poolsNotReady, capacity, this::podRules, plan -> {
      metrics.schedulingDuration(plan.simulation());
      metrics.batchSize(plan.pods().size() - plan.rejected().size());
    });
  }

  /** The distribution rules' capacity types and the volumes' zones, for one simulation. */
  private Simulator.PodRules podRules(Simulator.Scope scope) {
    VolumeTopology volumes = new VolumeTopology(caches::volumeClaim, caches::volume);
    return capacityTypes.rules(scope, volumes::requirements);
  }

  /** Creates the plan's new NodeClaims in parallel, as one launch group; returns their names. Lines carry {@code context}. */
  public List<String> launch(Plan plan, Reconciliation context) {
    return List.copyOf(launchGroup(plan, context).values());
  }

  /** {@link #launch}, with the claim each name was created for. */
  private Map<NewClaim, String> launchGroup(Plan plan, Reconciliation context) {
    List<NewClaim> claims = plan.solution().newClaims();
    String group = Long.toString(System.currentTimeMillis(), 36) + "-" + claims.size();
    Map<NewClaim, CompletableFuture<Optional<String>>> futures = new LinkedHashMap<>();
    for (NewClaim claim : claims) {
      Templates.PoolTemplate pool = plan.pools().get(claim.template().nodePool());
      futures.put(claim, CompletableFuture.supplyAsync(() -> create(claim, pool, plan, group, context), writers));
    }
    Map<NewClaim, String> created = new LinkedHashMap<>();
    futures.forEach((claim, f) -> f.join().ifPresent(name -> created.put(claim, name)));
    return created;
  }

  /** Which workloads a claim's pods belong to, for the log: "web x12, api x3". */
  static String owners(List<String> uids, Map<String, Pod> pods) {
    Map<String, Integer> counts = new TreeMap<>();
    for (String uid : uids) {
      Pod p = pods.get(uid);
      String owner = p == null || p.getMetadata().getOwnerReferences() == null || p.getMetadata().getOwnerReferences().isEmpty() ? "pod"
          : p.getMetadata().getOwnerReferences().get(0).getName();
      counts.merge(owner, 1, Integer::sum);
    }
    return counts.entrySet().stream().map(e -> e.getKey() + " x" + e.getValue()).collect(Collectors.joining(", "));
  }

  private static String podName(Pod pod) {
    return pod == null ? "?" : pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
  }

  private List<Templates.PoolTemplate> readyPools(Map<String, String> notReady) {
    List<Templates.PoolTemplate> out = new ArrayList<>();
    List<NodeClaim> claims = caches.nodeClaims();
    var daemonSets = caches.daemonSets();
    for (NodePool pool : caches.nodePools()) {
      var ref = pool.getSpec().template().spec().nodeClassRef();
      Optional<EC2NodeClass> nodeClass = ref == null ? Optional.empty() : caches.nodeClass(ref.name());
      Optional<String> why = Templates.notReady(pool, nodeClass);
      if (why.isPresent()) {
        notReady.put(pool.getMetadata().getName(), why.get());
        continue;
      }
      List<InstanceOption> options = cloud.instanceOptions(nodeClass.get()).toCompletableFuture().join();
      out.add(Templates.build(pool, nodeClass.get(), options, daemonSets, claims));
    }
    return out;
  }

  /**
   * What the claim's node costs an hour: its offering (type, zone, capacity type) among its class's
   * instance options, available now or not, else the catalog's price; empty when its labels do not say.
   */
  public Optional<Double> price(NodeClaim claim) {
    String type = NodeClaims.label(claim, WellKnownLabels.INSTANCE_TYPE);
    String zone = NodeClaims.label(claim, WellKnownLabels.ZONE);
    Optional<CapacityType> capacityType = CapacityType.fromLabel(NodeClaims.label(claim, WellKnownLabels.CAPACITY_TYPE));
    if (type.isEmpty() || zone.isEmpty() || capacityType.isEmpty()) {
      return Optional.empty();
    }
    var ref = claim.getSpec().nodeClassRef();
    Optional<EC2NodeClass> nodeClass = ref == null ? Optional.empty() : caches.nodeClass(ref.name());
    if (nodeClass.isPresent()) {
      for (InstanceOption o : cloud.instanceOptions(nodeClass.get()).toCompletableFuture().join()) {
        if (o.name().equals(type)) {
          // The cheapest matching offering: on-demand an unused commitment covers costs its effective price, like the nodes it covers.
          Optional<Double> offered = o.offerings().stream().filter(f -> f.zone().equals(zone) && f.capacityType() == capacityType.get())
              .map(f -> f.pricePerHour()).min(Double::compare);
          if (offered.isPresent()) {
            return offered;
          }
        }
      }
    }
    return caches.view().catalog().get(type).map(t -> t.pricePerHour(capacityType.get(), zone));
  }

  private Optional<String> create(NewClaim claim, Templates.PoolTemplate pool, Plan plan, String group, Reconciliation pass) {
    Map<String, Pod> pods = plan.pods();
    Reconciliation context = pass.with("NodePool", pool.pool().getMetadata().getName());
    NodeClaim object = NodeClaimFactory.create(claim, pool.pool(), pool.nodeClass(), group);
    // The workloads' distribution strategy picks the spot allocation strategy of the launch (F8), when
    // every pod the claim is for shares one; otherwise the provider's default applies.
    Set<String> claimStrategies = claim.podUids().stream().map(plan.strategies()::get).collect(Collectors.toSet());
    if (claimStrategies.size() == 1 && !claimStrategies.contains(null)) {
      object.getMetadata().getAnnotations().put(DovetailLabels.SPOT_STRATEGY, claimStrategies.iterator().next());
    }
    Map<String, Unschedulable> planFellBack = plan.fellBack();
    Map<String, Unschedulable> fellBack = new LinkedHashMap<>();
    claim.podUids().forEach(uid -> Optional.ofNullable(planFellBack.get(uid)).ifPresent(why -> fellBack.put(uid, why)));
    String fallbackReason = fellBack.isEmpty() ? null
        : "spot capacity could not hold " + fellBack.size() + " spot replicas (" + owners(List.copyOf(fellBack.keySet()), pods) + "): "
            + fellBack.values().iterator().next().message();
    if (fallbackReason != null) {
      object.getMetadata().getAnnotations().put(DovetailLabels.CAPACITY_FALLBACK_REASON, fallbackReason);
    }
    try {
      NodeClaim created = client.resources(NodeClaim.class).resource(object).create();
      String name = created.getMetadata().getName();
      Reconciliation about = context.with("NodeClaim", name);
      metrics.nodeClaimCreated("provisioning", pool.pool().getMetadata().getName());
      if (fallbackReason != null) {
        metrics.capacityFallback(pool.pool().getMetadata().getName());
        events.warning(created, "FallbackToOnDemand", "Launching on-demand capacity in place of spot: " + fallbackReason);
        fellBack.keySet().forEach(uid -> Optional.ofNullable(pods.get(uid)).ifPresent(pod -> events.warning(pod, "FallbackToOnDemand",
            "Spot capacity unavailable, running on on-demand nodeclaim/" + name + " that holds its spot place until spot is back: "
                + fellBack.get(uid).message())));
        about.atInfo(LOG).log("NodeClaim {} falls back to on-demand: {}", name, fallbackReason);
      }
      InstanceOption cheapest = claim.cheapest();
      about.atInfo(LOG).log("created NodeClaim {} from NodePool {} for {} pods ({}): requests {}, {} instance types from {} (${}/h)", name,
          pool.pool().getMetadata().getName(), claim.podUids().size(), owners(claim.podUids(), pods), claim.requests().amounts(),
          claim.options().size(), cheapest.name(), String.format("%.4f", cheapest.cheapestPrice(claim.requirements())));
      for (String uid : claim.podUids()) {
        Pod pod = pods.get(uid);
        if (pod != null) {
          events.normal(pod, "Nominated", "Pod should schedule on: nodeclaim/" + name, nominations);
          about.with("Pod", pod.getMetadata().getNamespace(), pod.getMetadata().getName()).atDebug(LOG)
              .log("pod {} nominated for NodeClaim {}", podName(pod), name);
        }
      }
      return Optional.of(name);
    } catch (RuntimeException e) {
      context.atError(LOG).log("creating a NodeClaim from NodePool {} failed: {}", pool.pool().getMetadata().getName(), e.getMessage());
      events.warning(pool.pool(), "FailedCreatingNodeClaim", "creating a NodeClaim failed: " + e.getMessage());
      return Optional.empty();
    }
  }
}
