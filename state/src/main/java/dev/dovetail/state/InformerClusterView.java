package dev.dovetail.state;

import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.distribution.DistributionRule;
import dev.dovetail.api.distribution.PodFacts;
import dev.dovetail.api.distribution.RuleSet;
import dev.dovetail.api.harness.v1.WorkloadDistributionRule;
import dev.dovetail.api.scheduling.Resources;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ClusterView} kept current by fabric8 shared informers on nodes, pods, ReplicaSets,
 * Deployments, StatefulSets, Jobs and WorkloadDistributionRules. Derived state (node facts, requested
 * resources per node, the rule set) is rebuilt in the informers' handlers, so reads are map lookups.
 */
public final class InformerClusterView implements ClusterView, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(InformerClusterView.class);
  private static final int MAX_FETCHED = 10_000;
  static final String BY_OWNER = "controller-owner-uid";

  private final Supplier<Catalog> catalog;
  private final InformerLag lag;
  private final List<SharedIndexInformer<?>> informers = new ArrayList<>();
  private final Map<String, NodeFacts> nodes = new ConcurrentHashMap<>();
  private final Map<String, PodUsage> podUsage = new ConcurrentHashMap<>();
  private final Map<String, Resources> requested = new ConcurrentHashMap<>();
  /** Running replicas per controller uid and node: what placement() sums instead of walking every pod. */
  private final Map<String, Map<String, Integer>> boundByOwner = new ConcurrentHashMap<>();
  private final List<Consumer<String>> settledListeners = new CopyOnWriteArrayList<>();
  /** Live (not finished, not terminating) pods per controller uid, bound or not, and the owner of each. */
  private final Map<String, Integer> liveByOwner = new ConcurrentHashMap<>();
  private final Map<String, String> liveOwnerOf = new ConcurrentHashMap<>();
  private final AtomicReference<RuleSet> rules = new AtomicReference<>(RuleSet.EMPTY);
  /** Owners read from the API server before the watches delivered them (kind/namespace/name), dropped once they have. */
  private final Map<String, HasMetadata> fetched = new ConcurrentHashMap<>();
  private KubernetesClient client;
  private boolean derivedStateOnly;
  private SharedIndexInformer<Pod> pods;
  private SharedIndexInformer<ReplicaSet> replicaSets;
  private SharedIndexInformer<Deployment> deployments;
  private SharedIndexInformer<StatefulSet> statefulSets;
  private SharedIndexInformer<Job> jobs;
  private SharedIndexInformer<WorkloadDistributionRule> ruleInformer;

  private SharedIndexInformer<Node> nodeInformer;
  private final List<ResourceEventHandler<Pod>> extraPodHandlers = new ArrayList<>();
  private final List<ResourceEventHandler<Node>> extraNodeHandlers = new ArrayList<>();
  private final Map<String, Function<Pod, List<String>>> extraPodIndexers = new HashMap<>();
  private final Map<String, Function<Node, List<String>>> extraNodeIndexers = new HashMap<>();

  private record PodUsage(String node, String ownerUid, Resources requests) {
  }

  public InformerClusterView(Catalog catalog, MeterRegistry registry) {
    this(() -> catalog, registry);
  }

  /** With a catalog that changes (prices refreshed from the cloud): node facts take the prices current when the node changes. */
  public InformerClusterView(Supplier<Catalog> catalog, MeterRegistry registry) {
    this.catalog = catalog;
    this.lag = new InformerLag(registry);
  }

  /**
   * Another component's handler on the same pod informer (one watch of all pods per process). Call
   * before {@link #start}; the handler runs on the informer's thread and must not block.
   */
  public InformerClusterView onPods(ResourceEventHandler<Pod> handler) {
    extraPodHandlers.add(handler);
    return this;
  }

  /** As {@link #onPods}, for nodes. */
  public InformerClusterView onNodes(ResourceEventHandler<Node> handler) {
    extraNodeHandlers.add(handler);
    return this;
  }

  /** An index on the pod cache (for example pods by node name). Call before {@link #start}. */
  public InformerClusterView indexPods(String name, Function<Pod, List<String>> indexer) {
    extraPodIndexers.put(name, indexer);
    return this;
  }

  /** An index on the node cache. Call before {@link #start}. */
  public InformerClusterView indexNodes(String name, Function<Node, List<String>> indexer) {
    extraNodeIndexers.put(name, indexer);
    return this;
  }

  /**
   * Decode only what the derived state reads (see {@link TrimmedSerialization#derivedStateOnly()}): for a
   * process that uses this view's answers and never the cached objects, like the extender. Less CPU per
   * watch event and a smaller cache (fewer, shorter garbage collections). Call before {@link #start}.
   */
  public InformerClusterView derivedStateOnly() {
    this.derivedStateOnly = true;
    return this;
  }

  public Catalog catalog() {
    return catalog.get();
  }

  /** The pod cache, decoded trimmed (no container statuses, env or probes): read only. */
  public SharedIndexInformer<Pod> pods() {
    return pods;
  }

  /** The WorkloadDistributionRule objects as listed (for status reporting): read only. */
  public List<WorkloadDistributionRule> ruleObjects() {
    return ruleInformer == null ? List.of() : ruleInformer.getStore().list();
  }

  /** The node cache (without image lists): read only. */
  public SharedIndexInformer<Node> nodes() {
    return nodeInformer;
  }

  /** Starts the informers; {@link #synced()} tells when their first lists have arrived. */
  public InformerClusterView start(KubernetesClient apiClient) {
    // A client of its own, decoding with the trimmed serialization: these caches are never written back.
    KubernetesClient client = new KubernetesClientBuilder().withConfig(apiClient.getConfiguration())
        .withKubernetesSerialization(derivedStateOnly ? TrimmedSerialization.derivedStateOnly() : TrimmedSerialization.create()).build();
    this.client = client;
    // Every informer is created, assigned and given its handlers before any runs: the first events
    // arrive while run() is still returning, and handlers read the other informers' fields.
    nodeInformer = client.nodes().runnableInformer(0);
    nodeInformer.addEventHandler(handler("nodes",
        n -> nodes.put(n.getMetadata().getName(), NodeFacts.of(n, catalog.get())),
        n -> nodes.remove(n.getMetadata().getName())));
    extraNodeHandlers.forEach(nodeInformer::addEventHandler);
    if (!extraNodeIndexers.isEmpty()) {
      nodeInformer.addIndexers(extraNodeIndexers);
    }
    pods = client.pods().inAnyNamespace().runnableInformer(0);
    pods.addEventHandler(handler("pods", this::podChanged, this::podRemoved));
    extraPodHandlers.forEach(pods::addEventHandler);
    if (!extraPodIndexers.isEmpty()) {
      pods.addIndexers(extraPodIndexers);
    }
    replicaSets = client.apps().replicaSets().inAnyNamespace().runnableInformer(0);
    replicaSets.addIndexers(Map.of(BY_OWNER, InformerClusterView::controllerUid));
    deployments = client.apps().deployments().inAnyNamespace().runnableInformer(0);
    statefulSets = client.apps().statefulSets().inAnyNamespace().runnableInformer(0);
    jobs = client.batch().v1().jobs().inAnyNamespace().runnableInformer(0);
    ruleInformer = client.resources(WorkloadDistributionRule.class).runnableInformer(0);
    ruleInformer.addEventHandler(handler("workloaddistributionrules", r -> rebuildRules(), r -> rebuildRules()));
    informers.addAll(List.of(nodeInformer, pods, replicaSets, deployments, statefulSets, jobs, ruleInformer));
    for (SharedIndexInformer<?> informer : informers) {
      Gauge.builder("dovetail.informer.synced", informer, i -> i.hasSynced() ? 1 : 0)
          .description("1 once the informer has listed its resource").tag("resource", informer.getApiTypeClass().getSimpleName())
          .register(lag.registry());
      informer.run();
    }
    return this;
  }

  private <T extends HasMetadata> ResourceEventHandler<T> handler(String resource, Consumer<T> changed, Consumer<T> removed) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        lag.created(resource, obj);
        guard(resource, obj, changed);
      }

      @Override
      public void onUpdate(T oldObj, T newObj) {
        guard(resource, newObj, changed);
      }

      @Override
      public void onDelete(T obj, boolean deletedFinalStateUnknown) {
        guard(resource, obj, removed);
      }
    };
  }

  /** A bad object must not stop the informer's handler thread. */
  private static <T extends HasMetadata> void guard(String resource, T obj, Consumer<T> action) {
    try {
      action.accept(obj);
    } catch (RuntimeException e) {
      LOG.warn("ignoring {} {}/{} that could not be processed: {}", resource, obj.getMetadata().getNamespace(),
          obj.getMetadata().getName(), e.toString());
    }
  }

  private static List<String> controllerUid(HasMetadata obj) {
    return controller(obj).map(r -> List.of(r.getUid())).orElse(List.of());
  }

  /** The Deployment that controls a ReplicaSet, if one does (none for a null ReplicaSet). */
  private static Optional<OwnerReference> deploymentOf(ReplicaSet rs) {
    return rs == null ? Optional.empty() : controller(rs).filter(r -> r.getKind().equals("Deployment"));
  }

  private static Optional<OwnerReference> controller(HasMetadata obj) {
    List<OwnerReference> refs = obj.getMetadata().getOwnerReferences();
    return refs == null ? Optional.empty() : refs.stream().filter(r -> Boolean.TRUE.equals(r.getController())).findFirst();
  }

  private static boolean counts(Pod pod) {
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    return pod.getMetadata().getDeletionTimestamp() == null && !"Succeeded".equals(phase) && !"Failed".equals(phase);
  }

  private void podChanged(Pod pod) {
    String uid = pod.getMetadata().getUid();
    String node = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
    boolean live = counts(pod);
    String owner = controller(pod).map(OwnerReference::getUid).orElse(null);
    if (live && owner != null) {
      if (liveOwnerOf.put(uid, owner) == null) {
        liveByOwner.merge(owner, 1, Integer::sum);
      }
    } else {
      forgetLive(uid);
    }
    PodUsage now = node != null && live ? new PodUsage(node, owner, Resources.requestsOf(pod)) : null;
    PodUsage before = now == null ? podUsage.remove(uid) : podUsage.put(uid, now);
    if (before != null) {
      unaccount(before);
    }
    if (now != null) {
      requested.merge(now.node(), now.requests(), Resources::plus);
      if (now.ownerUid() != null) {
        boundByOwner.computeIfAbsent(now.ownerUid(), k -> new ConcurrentHashMap<>()).merge(now.node(), 1, Integer::sum);
      }
    }
    if (node != null || !live) {
      settled(uid);
    }
  }

  private void forgetLive(String podUid) {
    String owner = liveOwnerOf.remove(podUid);
    if (owner != null) {
      liveByOwner.computeIfPresent(owner, (k, c) -> c <= 1 ? null : c - 1);
    }
  }

  private void podRemoved(Pod pod) {
    forgetLive(pod.getMetadata().getUid());
    PodUsage before = podUsage.remove(pod.getMetadata().getUid());
    if (before != null) {
      unaccount(before);
    }
    settled(pod.getMetadata().getUid());
  }

  private void unaccount(PodUsage usage) {
    requested.computeIfPresent(usage.node(), (k, r) -> r.minus(usage.requests()));
    if (usage.ownerUid() != null) {
      boundByOwner.computeIfPresent(usage.ownerUid(), (k, perNode) -> {
        perNode.computeIfPresent(usage.node(), (n, c) -> c <= 1 ? null : c - 1);
        return perNode.isEmpty() ? null : perNode;
      });
    }
  }

  private void settled(String uid) {
    for (Consumer<String> listener : settledListeners) {
      listener.accept(uid);
    }
  }

  @Override
  public void onPodSettled(Consumer<String> listener) {
    settledListeners.add(listener);
  }

  private void rebuildRules() {
    List<RuleSet.Entry> entries = new ArrayList<>();
    for (WorkloadDistributionRule r : ruleInformer.getStore().list()) {
      try {
        String ns = r.getSpec().namespace();
        entries.add(new RuleSet.Entry(r.getMetadata().getName(), Instant.parse(r.getMetadata().getCreationTimestamp()),
            ns == null || ns.isEmpty() ? Optional.empty() : Optional.of(ns), DistributionRule.from(r.getSpec())));
      } catch (RuntimeException e) {
        LOG.warn("ignoring WorkloadDistributionRule {}: {}", r.getMetadata().getName(), e.getMessage());
      }
    }
    rules.set(RuleSet.of(entries));
  }

  @Override
  public boolean synced() {
    return !informers.isEmpty() && informers.stream().allMatch(SharedIndexInformer::hasSynced);
  }

  @Override
  public Optional<NodeFacts> node(String name) {
    return Optional.ofNullable(nodes.get(name));
  }

  @Override
  public Resources requested(String node) {
    return requested.getOrDefault(node, Resources.NONE);
  }

  @Override
  public RuleSet rules() {
    return rules.get();
  }

  @Override
  public Workload workloadOf(PodFacts pod) {
    String ns = pod.namespace();
    if (pod.owner().isEmpty()) {
      return new Workload(new WorkloadKey(ns, "Pod", pod.name()), 1);
    }
    PodFacts.Owner owner = pod.owner().get();
    switch (owner.kind()) {
      case "ReplicaSet" -> {
        ReplicaSet rs = cached(replicaSets, ReplicaSet.class, ns, owner.name());
        Optional<OwnerReference> deployment = deploymentOf(rs);
        if (deployment.isPresent()) {
          Deployment d = cached(deployments, Deployment.class, ns, deployment.get().getName());
          int desired = d != null && d.getSpec().getReplicas() != null ? d.getSpec().getReplicas() : 1;
          // All ReplicaSets of the Deployment: during a rollout its replicas are spread over several.
          List<String> owners = new ArrayList<>(Indexes.byIndex(replicaSets.getIndexer(), BY_OWNER, deployment.get().getUid()).stream()
              .map(r -> r.getMetadata().getUid()).toList());
          if (!owners.contains(owner.uid())) {
            owners.add(owner.uid());
          }
          return new Workload(new WorkloadKey(ns, "Deployment", deployment.get().getName()), desired, owners);
        }
        int desired = rs != null && rs.getSpec().getReplicas() != null ? rs.getSpec().getReplicas() : 1;
        return new Workload(new WorkloadKey(ns, "ReplicaSet", owner.name()), desired, List.of(owner.uid()));
      }
      case "StatefulSet" -> {
        StatefulSet s = cached(statefulSets, StatefulSet.class, ns, owner.name());
        int desired = s != null && s.getSpec().getReplicas() != null ? s.getSpec().getReplicas() : 1;
        return new Workload(new WorkloadKey(ns, "StatefulSet", owner.name()), desired, List.of(owner.uid()));
      }
      case "Job" -> {
        Job j = cached(jobs, Job.class, ns, owner.name());
        int desired = j != null && j.getSpec().getParallelism() != null ? j.getSpec().getParallelism() : 1;
        return new Workload(new WorkloadKey(ns, "Job", owner.name()), desired, List.of(owner.uid()));
      }
      default -> {
        // Another controller (an operator's custom kind): its pods are the replicas it wants.
        int desired = Math.max(1, liveByOwner.getOrDefault(owner.uid(), 0));
        return new Workload(new WorkloadKey(ns, owner.kind(), owner.name()), desired, List.of(owner.uid()));
      }
    }
  }

  @Override
  public boolean ownersKnown(PodFacts pod) {
    if (pod.owner().isEmpty()) {
      return true;
    }
    String ns = pod.namespace();
    PodFacts.Owner owner = pod.owner().get();
    return switch (owner.kind()) {
      case "ReplicaSet" -> {
        ReplicaSet rs = cached(replicaSets, ReplicaSet.class, ns, owner.name());
        yield rs != null && deploymentOf(rs)
            .map(d -> cached(deployments, Deployment.class, ns, d.getName()) != null).orElse(true);
      }
      case "StatefulSet" -> cached(statefulSets, StatefulSet.class, ns, owner.name()) != null;
      case "Job" -> cached(jobs, Job.class, ns, owner.name()) != null;
      default -> true;
    };
  }

  @Override
  public void fetchOwners(PodFacts pod) {
    if (pod.owner().isEmpty() || client == null) {
      return;
    }
    String ns = pod.namespace();
    PodFacts.Owner owner = pod.owner().get();
    try {
      switch (owner.kind()) {
        case "ReplicaSet" -> {
          ReplicaSet rs = remember(ReplicaSet.class, client.apps().replicaSets().inNamespace(ns).withName(owner.name()).get());
          Optional<OwnerReference> d = deploymentOf(rs);
          if (d.isPresent()) {
            remember(Deployment.class, client.apps().deployments().inNamespace(ns).withName(d.get().getName()).get());
          }
        }
        case "StatefulSet" -> remember(StatefulSet.class, client.apps().statefulSets().inNamespace(ns).withName(owner.name()).get());
        case "Job" -> remember(Job.class, client.batch().v1().jobs().inNamespace(ns).withName(owner.name()).get());
        default -> {
          // counted from its live pods
        }
      }
    } catch (KubernetesClientException e) {
      LOG.warn("reading the owner {} {}/{} of pod {} failed; its workload's size is guessed: {}", owner.kind(), ns, owner.name(),
          pod.name(), e.getMessage());
    }
  }

  /** An owner from its informer's cache, else as fetched; a fetched copy goes once the cache has it. */
  private <T extends HasMetadata> T cached(SharedIndexInformer<T> informer, Class<T> type, String namespace, String name) {
    String key = Cache.namespaceKeyFunc(namespace, name);
    T cached = informer.getStore().getByKey(key);
    if (fetched.isEmpty()) {
      return cached;
    }
    String fetchedKey = type.getSimpleName() + "/" + key;
    if (cached != null) {
      fetched.remove(fetchedKey);
      return cached;
    }
    return type.cast(fetched.get(fetchedKey));
  }

  private <T extends HasMetadata> T remember(Class<T> type, T object) {
    if (object != null) {
      if (fetched.size() >= MAX_FETCHED) {
        // Only owners the watches never delivered (deleted at once) pile up; the watches will have the rest.
        fetched.clear();
      }
      fetched.put(type.getSimpleName() + "/" + Cache.namespaceKeyFunc(object.getMetadata().getNamespace(), object.getMetadata().getName()),
          object);
    }
    return object;
  }

  @Override
  public WorkloadPlacement placement(Workload workload, String excludedPodUid, InFlight inFlight, boolean spread) {
    PlacementTally tally = new PlacementTally(nodes::get, spread);
    for (String ownerUid : workload.podOwnerUids()) {
      Map<String, Integer> perNode = boundByOwner.get(ownerUid);
      if (perNode != null) {
        perNode.forEach(tally::on);
      }
    }
    PodUsage excluded = podUsage.get(excludedPodUid);
    // A standalone pod (no owner) is counted nowhere: nothing to take off for it.
    if (excluded != null && excluded.ownerUid() != null && workload.podOwnerUids().contains(excluded.ownerUid())) {
      tally.on(excluded.node(), -1);
    }
    tally.inFlight(inFlight.pending(workload.key(), excludedPodUid));
    return tally.result();
  }

  @Override
  public void close() {
    informers.forEach(SharedIndexInformer::close);
    if (client != null) {
      client.close();
    }
  }
}
