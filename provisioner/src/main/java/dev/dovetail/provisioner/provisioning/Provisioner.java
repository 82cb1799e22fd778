package dev.dovetail.provisioner.provisioning;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.disruption.Drain;
import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.distribution.PodFacts;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.ClaimTemplate;
import dev.dovetail.api.scheduling.InstanceOption;
import dev.dovetail.api.scheduling.NewClaim;
import dev.dovetail.api.scheduling.Requirement;
import dev.dovetail.api.scheduling.Requirements;
import dev.dovetail.api.scheduling.Scheduler;
import dev.dovetail.api.scheduling.SchedulingPod;
import dev.dovetail.api.scheduling.Solution;
import dev.dovetail.provisioner.cloud.CloudProvider;
import dev.dovetail.provisioner.cluster.Caches;
import dev.dovetail.runtime.Recorder;
import dev.dovetail.provisioner.metrics.KarpenterMetrics;
import dev.dovetail.provisioner.nodeclaim.NodeClaims;
import dev.dovetail.state.Governance;
import dev.dovetail.state.InFlight;
import dev.dovetail.state.WorkloadKey;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.Gauge;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One provisioning pass, as Karpenter's provisioner runs it after each batch: take the pending pods,
 * give each governed pod the capacity type the shared distribution decision prefers for it, simulate
 * scheduling over existing nodes, in-flight NodeClaims and the ready NodePools by weight, create the
 * new NodeClaims in parallel, and tell each pod (events) where it should land or why it cannot.
 */
public final class Provisioner {
  private static final Logger LOG = LoggerFactory.getLogger(Provisioner.class);
  public static final int MAX_INSTANCE_TYPES = 60;

  private final KubernetesClient client;
  private final Caches caches;
  private final CloudProvider cloud;
  private final Governance governance;
  private final Recorder events;
  private final KarpenterMetrics metrics;
  private final Set<String> schedulerNames;
  private final ExecutorService writers;
  private final Nominations nominations;
  private final java.util.Set<String> interruptedOfferings = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final AtomicInteger lastUnschedulable = new AtomicInteger();
  private final AtomicInteger lastPending = new AtomicInteger();

  public Provisioner(KubernetesClient client, Caches caches, CloudProvider cloud, Governance governance, Recorder events,
      KarpenterMetrics metrics, Set<String> schedulerNames, ExecutorService writers, Nominations nominations) {
    this.client = client;
    this.caches = caches;
    this.cloud = cloud;
    this.governance = governance;
    this.events = events;
    this.metrics = metrics;
    this.schedulerNames = Set.copyOf(schedulerNames);
    this.writers = writers;
    this.nominations = nominations;
    Gauge.builder("karpenter.scheduler.unschedulable.pods.count", lastUnschedulable, AtomicInteger::get)
        .description("Pods the last simulation could not place.").tag("controller", "provisioner").register(metrics.registry());
    Gauge.builder("karpenter.scheduler.queue.depth", lastPending, AtomicInteger::get)
        .description("Pending pods in the last simulation.").tag("controller", "provisioner").register(metrics.registry());
  }

  /** What a pass did. */
  public record Outcome(int pendingPods, int onExistingCapacity, List<String> createdClaims, Map<String, String> unschedulable,
      Map<String, String> poolsNotReady, Duration simulation, int inTransit) {
    public static Outcome notSynced() {
      return new Outcome(0, 0, List.of(), Map.of(), Map.of(), Duration.ZERO, 0);
    }
  }

  /**
   * How long a pending pod whose planned node was just released is left to kube-scheduler before it
   * counts as pending again: in that time it is in transit (queued, backing off after an attempt made
   * while the launch group was being released), and simulating it would launch a node it never uses.
   */
  public static final Duration PLACEMENT_GRACE = Duration.ofSeconds(5);

  /**
   * Pods on nodes whose NodeClaim the interrupt listener marked: they are provisioned for before the
   * drain evicts them, so the replacement is launching while the node empties (their room on the doomed
   * node is not counted: it is tainted). An interrupted spot offering is left alone for a while, so the
   * replacement goes to another pool, or on-demand as the rule allows.
   */
  private List<Pod> displaced() {
    List<Pod> out = new ArrayList<>();
    for (NodeClaim claim : caches.nodeClaims()) {
      Map<String, String> annotations = claim.getMetadata().getAnnotations();
      String notice = annotations == null ? null : annotations.get(DovetailLabels.INTERRUPTION);
      if (notice == null || claim.getStatus() == null || claim.getStatus().nodeName() == null) {
        continue;
      }
      Map<String, String> labels = claim.getMetadata().getLabels() == null ? Map.of() : claim.getMetadata().getLabels();
      if (notice.startsWith("spot-interruption") && interruptedOfferings.add(claim.getMetadata().getName())
          && labels.containsKey(WellKnownLabels.INSTANCE_TYPE) && labels.containsKey(WellKnownLabels.ZONE)) {
        cloud.markUnavailable(labels.get(WellKnownLabels.INSTANCE_TYPE), labels.get(WellKnownLabels.ZONE), CapacityType.SPOT.label());
        LOG.info("NodeClaim {} is being interrupted ({}): launching for its pods now; {} spot in {} skipped for a while",
            claim.getMetadata().getName(), notice, labels.get(WellKnownLabels.INSTANCE_TYPE), labels.get(WellKnownLabels.ZONE));
      }
      for (Pod p : caches.podsOn(claim.getStatus().nodeName())) {
        if (p.getMetadata().getDeletionTimestamp() == null && Drain.drainable(p) && Drain.tier(p) % 2 == 0
            && schedulerNames.contains(p.getSpec().getSchedulerName() == null ? "default-scheduler" : p.getSpec().getSchedulerName())) {
          out.add(p);
        }
      }
    }
    return out;
  }

  public Outcome provision() {
    if (!caches.synced()) {
      return Outcome.notSynced();
    }
    // Capacity first, then pods: a node that appears in between makes us launch less, never more.
    Map<String, String> poolsNotReady = new LinkedHashMap<>();
    List<Templates.PoolTemplate> pools = readyPools(poolsNotReady);
    Map<String, ClaimTemplate> byPool = new HashMap<>();
    pools.forEach(p -> byPool.put(p.pool().getMetadata().getName(), p.template()));
    long now = System.nanoTime();
    int[] inTransit = {0};
    List<Pod> pending = caches.pods().stream()
        .filter(p -> PendingPods.provisionable(p, schedulerNames) || PendingPods.plannedButUnplaced(p, schedulerNames))
        .filter(p -> {
          boolean transit = nominations.inTransit(p.getMetadata().getUid(), now, PLACEMENT_GRACE);
          inTransit[0] += transit ? 1 : 0;
          return !transit;
        })
        .collect(java.util.stream.Collectors.toCollection(ArrayList::new));
    pending.addAll(displaced());
    // Pods simulated here hold no room where they were nominated: they are being placed anew.
    Snapshot.Capacity capacity = Snapshot.of(caches, byPool, pending.stream().map(p -> p.getMetadata().getUid()).collect(java.util.stream.Collectors.toSet()));
    pending.sort(Comparator.comparing((Pod p) -> String.valueOf(p.getMetadata().getCreationTimestamp())).thenComparing(p -> p.getMetadata().getUid()));
    lastPending.set(pending.size());
    if (pending.isEmpty()) {
      lastUnschedulable.set(0);
      return new Outcome(0, 0, List.of(), Map.of(), poolsNotReady, Duration.ZERO, inTransit[0]);
    }
    long start = System.nanoTime();
    Map<String, Pod> byUid = new HashMap<>();
    java.util.Set<String> spreading = new java.util.HashSet<>();
    List<SchedulingPod> pods = new ArrayList<>(pending.size());
    VolumeTopology volumes = new VolumeTopology(caches::volumeClaim, caches::volume);
    BatchDecisions decided = new BatchDecisions();
    Map<String, String> rejected = new LinkedHashMap<>();
    for (Pod pod : pending) {
      byUid.put(pod.getMetadata().getUid(), pod);
      try {
        Requirements extra = capacityTypeFor(pod, decided).and(volumes.requirements(pod));
        SchedulingPod p = SchedulingPod.of(pod, extra);
        pods.add(p);
        if (p.topology().stream().anyMatch(t -> t.kind() == dev.dovetail.api.scheduling.TopologyTerm.Kind.SPREAD)) {
          spreading.add(p.uid());
        }
      } catch (RuntimeException e) {
        rejected.put(pod.getMetadata().getUid(), "its scheduling constraints could not be read: " + e.getMessage());
      }
    }
    Solution solution = new Scheduler(capacity.nodes(), pools.stream().map(Templates.PoolTemplate::template).toList(),
        capacity.placedPods(), MAX_INSTANCE_TYPES).solve(pods);
    Duration simulated = Duration.ofNanos(System.nanoTime() - start);
    metrics.schedulingDuration(simulated);
    metrics.batchSize(pods.size());
    Map<String, Templates.PoolTemplate> poolByName = new HashMap<>();
    pools.forEach(p -> poolByName.put(p.pool().getMetadata().getName(), p));
    String group = Long.toString(System.currentTimeMillis(), 36) + "-" + Integer.toString(solution.newClaims().size());
    List<String> created = createClaims(solution.newClaims(), poolByName, byUid, group, spreading, decided.strategies);
    solution.onExistingNodes().forEach((uid, node) -> {
      Pod pod = byUid.get(uid);
      if (pod != null) {
        events.normal(pod, "Nominated", "Pod should schedule on: " + (caches.nodeClaim(node).isPresent() ? "nodeclaim/" : "node/") + node);
      }
    });
    Map<String, String> unschedulable = new LinkedHashMap<>(rejected);
    unschedulable.putAll(solution.unschedulable());
    unschedulable.forEach((uid, reason) -> {
      Pod pod = byUid.get(uid);
      if (pod != null) {
        events.warning(pod, "FailedScheduling", "Failed to schedule pod, " + reason);
        metrics.registry().counter("dovetail.provisioner.unschedulable.pods", "reason", category(reason)).increment();
      }
    });
    lastUnschedulable.set(unschedulable.size());
    if (!unschedulable.isEmpty()) {
      LOG.info("pods that fit nowhere: {}", unschedulable.entrySet().stream().limit(3)
          .map(e -> podName(byUid.get(e.getKey())) + ": " + e.getValue()).toList());
    }
    LOG.info("provisioning: {} pending pods, {} fit existing or in-flight capacity, {} new NodeClaims, {} unschedulable (simulated in {} ms); "
        + "{} more in transit to nodes just released", pending.size(), solution.onExistingNodes().size(), created.size(), unschedulable.size(),
        simulated.toMillis(), inTransit[0]);
    return new Outcome(pending.size(), solution.onExistingNodes().size(), created, unschedulable, poolsNotReady, simulated, inTransit[0]);
  }

  /** Which workloads a claim's pods belong to, for the log: "web x12, api x3". */
  static String owners(List<String> uids, Map<String, Pod> pods) {
    Map<String, Integer> counts = new java.util.TreeMap<>();
    for (String uid : uids) {
      Pod p = pods.get(uid);
      String owner = p == null || p.getMetadata().getOwnerReferences() == null || p.getMetadata().getOwnerReferences().isEmpty() ? "pod"
          : p.getMetadata().getOwnerReferences().get(0).getName();
      counts.merge(owner, 1, Integer::sum);
    }
    return counts.entrySet().stream().map(e -> e.getKey() + " x" + e.getValue()).collect(java.util.stream.Collectors.joining(", "));
  }

  private static String podName(Pod pod) {
    return pod == null ? "?" : pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
  }

  /** A coarse reason for metrics (the event carries the full one). */
  static String category(String reason) {
    if (reason.contains("limit")) {
      return "limits";
    }
    if (reason.contains("taint")) {
      return "taints";
    }
    if (reason.contains("topology")) {
      return "topology";
    }
    if (reason.contains("no NodePool")) {
      return "no_nodepool";
    }
    if (reason.contains("fits requests") || reason.contains("minValues")) {
      return "resources";
    }
    return "requirements";
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
   * The capacity-type requirement the distribution gives a pod: the class it prefers (on-demand
   * includes reserved capacity). Pods of one workload are decided in order, each counting those
   * decided before it in this pass, exactly as the extender counts replicas in flight.
   */
  private Requirements capacityTypeFor(Pod pod, BatchDecisions decided) {
    PodFacts facts = PodFacts.of(pod);
    Governance.Result result = governance.govern(facts, decided, false);
    if (result.governed().isEmpty()) {
      return Requirements.NONE;
    }
    var governed = result.governed().get();
    CapacityType preferred = governed.decision().preferred().orElse(CapacityType.ON_DEMAND);
    decided.add(governed.workload().key(), preferred.isSpot());
    decided.strategies.put(pod.getMetadata().getUid(), governed.rule().rule().strategy().name());
    return Requirements.of(preferred.isSpot() ? Requirement.in(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.SPOT)
        : Requirement.in(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.ON_DEMAND, WellKnownLabels.RESERVED));
  }

  /** Capacity types decided earlier in this pass, per workload. */
  static final class BatchDecisions implements InFlight {
    private final Map<WorkloadKey, int[]> counts = new HashMap<>();
    /** The distribution strategy of each governed pod, by UID: a claim for pods of one strategy launches by it. */
    final Map<String, String> strategies = new HashMap<>();

    void add(WorkloadKey key, boolean spot) {
      counts.computeIfAbsent(key, k -> new int[2])[spot ? 0 : 1]++;
    }

    @Override
    public Pending pending(WorkloadKey workload, String excludedPodUid) {
      int[] c = counts.get(workload);
      return c == null ? Pending.NONE : new Pending(c[0], c[1], Map.of());
    }
  }

  private List<String> createClaims(List<NewClaim> claims, Map<String, Templates.PoolTemplate> pools, Map<String, Pod> pods, String group,
      java.util.Set<String> spreading, Map<String, String> strategies) {
    List<CompletableFuture<Optional<String>>> futures = new ArrayList<>();
    for (NewClaim claim : claims) {
      Templates.PoolTemplate pool = pools.get(claim.template().nodePool());
      futures.add(CompletableFuture.supplyAsync(() -> create(claim, pool, pods, group, spreading, strategies), writers));
    }
    List<String> created = new ArrayList<>();
    for (CompletableFuture<Optional<String>> f : futures) {
      f.join().ifPresent(created::add);
    }
    return created;
  }

  private Optional<String> create(NewClaim claim, Templates.PoolTemplate pool, Map<String, Pod> pods, String group,
      java.util.Set<String> spreading, Map<String, String> strategies) {
    NodeClaim object = NodeClaims.create(claim, pool.pool(), pool.nodeClass(), group);
    // The workloads' distribution strategy picks the spot allocation strategy of the launch (F8), when
    // every pod the claim is for shares one; otherwise the provider's default applies.
    java.util.Set<String> claimStrategies = claim.podUids().stream().map(strategies::get).collect(java.util.stream.Collectors.toSet());
    if (claimStrategies.size() == 1 && !claimStrategies.contains(null)) {
      object.getMetadata().getAnnotations().put(DovetailLabels.SPOT_STRATEGY, claimStrategies.iterator().next());
    }
    try {
      NodeClaim created = client.resources(NodeClaim.class).resource(object).create();
      String name = created.getMetadata().getName();
      List<Nominations.PodRef> planned = new ArrayList<>();
      for (String uid : claim.podUids()) {
        Pod pod = pods.get(uid);
        if (pod != null) {
          String workload = pod.getMetadata().getOwnerReferences() == null ? uid : pod.getMetadata().getOwnerReferences().stream()
              .filter(r -> Boolean.TRUE.equals(r.getController())).map(r -> r.getUid()).findFirst().orElse(uid);
          planned.add(new Nominations.PodRef(pod.getMetadata().getNamespace(), pod.getMetadata().getName(), uid, workload,
              spreading.contains(uid)));
        }
      }
      nominations.plan(name, group, planned);
      metrics.nodeClaimCreated("provisioning", pool.pool().getMetadata().getName());
      InstanceOption cheapest = claim.cheapest();
      LOG.info("created NodeClaim {} from NodePool {} for {} pods ({}): requests {}, {} instance types from {} (${}/h)", name,
          pool.pool().getMetadata().getName(), claim.podUids().size(), owners(claim.podUids(), pods), claim.requests().amounts(),
          claim.options().size(), cheapest.name(), String.format("%.4f", cheapest.cheapestPrice(claim.requirements())));
      for (String uid : claim.podUids()) {
        Pod pod = pods.get(uid);
        if (pod != null) {
          events.normal(pod, "Nominated", "Pod should schedule on: nodeclaim/" + name);
        }
      }
      return Optional.of(name);
    } catch (RuntimeException e) {
      LOG.error("creating a NodeClaim from NodePool {} failed: {}", pool.pool().getMetadata().getName(), e.getMessage());
      events.warning(pool.pool(), "FailedCreatingNodeClaim", "creating a NodeClaim failed: " + e.getMessage());
      return Optional.empty();
    }
  }
}
