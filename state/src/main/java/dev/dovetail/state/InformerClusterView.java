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
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ClusterView} kept current by fabric8 shared informers on nodes, pods, ReplicaSets,
 * Deployments, StatefulSets, Jobs and WorkloadDistributionRules. Derived state (node facts, requested
 * resources per node, the rule set) is rebuilt in the informers' handlers, so reads are map lookups.
 */
public final class InformerClusterView implements ClusterView, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(InformerClusterView.class);
  static final String BY_OWNER = "controller-owner-uid";

  private final Catalog catalog;
  private final InformerLag lag;
  private final List<SharedIndexInformer<?>> informers = new ArrayList<>();
  private final Map<String, NodeFacts> nodes = new ConcurrentHashMap<>();
  private final Map<String, PodUsage> podUsage = new ConcurrentHashMap<>();
  private final Map<String, Resources> requested = new ConcurrentHashMap<>();
  private final AtomicReference<RuleSet> rules = new AtomicReference<>(RuleSet.EMPTY);
  private SharedIndexInformer<Pod> pods;
  private SharedIndexInformer<ReplicaSet> replicaSets;
  private SharedIndexInformer<Deployment> deployments;
  private SharedIndexInformer<StatefulSet> statefulSets;
  private SharedIndexInformer<Job> jobs;
  private SharedIndexInformer<WorkloadDistributionRule> ruleInformer;

  private record PodUsage(String node, Resources requests) {
  }

  public InformerClusterView(Catalog catalog, MeterRegistry registry) {
    this.catalog = catalog;
    this.lag = new InformerLag(registry);
  }

  /** Starts the informers; {@link #synced()} tells when their first lists have arrived. */
  public InformerClusterView start(KubernetesClient client) {
    SharedIndexInformer<Node> nodeInformer = client.nodes().inform(handler("nodes",
        n -> nodes.put(n.getMetadata().getName(), NodeFacts.of(n, catalog)),
        n -> nodes.remove(n.getMetadata().getName())), 0);
    informers.add(nodeInformer);

    pods = client.pods().inAnyNamespace().runnableInformer(0);
    pods.addIndexers(Map.of(BY_OWNER, InformerClusterView::controllerUid));
    pods.addEventHandler(handler("pods", this::podChanged, this::podRemoved));
    informers.add(pods.run());

    replicaSets = client.apps().replicaSets().inAnyNamespace().runnableInformer(0);
    replicaSets.addIndexers(Map.of(BY_OWNER, InformerClusterView::controllerUid));
    replicaSets.addEventHandler(handler("replicasets", r -> { }, r -> { }));
    informers.add(replicaSets.run());

    deployments = client.apps().deployments().inAnyNamespace().inform(handler("deployments", d -> { }, d -> { }), 0);
    statefulSets = client.apps().statefulSets().inAnyNamespace().inform(handler("statefulsets", s -> { }, s -> { }), 0);
    jobs = client.batch().v1().jobs().inAnyNamespace().inform(handler("jobs", j -> { }, j -> { }), 0);
    informers.addAll(List.of(deployments, statefulSets, jobs));

    ruleInformer = client.resources(WorkloadDistributionRule.class).inform(
        handler("workloaddistributionrules", r -> rebuildRules(), r -> rebuildRules()), 0);
    informers.add(ruleInformer);
    for (SharedIndexInformer<?> informer : informers) {
      Gauge.builder("dovetail.informer.synced", informer, i -> i.hasSynced() ? 1 : 0)
          .description("1 once the informer has listed its resource").tag("resource", informer.getApiTypeClass().getSimpleName())
          .register(lag.registry());
    }
    return this;
  }

  private <T extends HasMetadata> ResourceEventHandler<T> handler(String resource, Consumer<T> changed, Consumer<T> removed) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        lag.observe(resource, obj);
        guard(resource, obj, changed);
      }

      @Override
      public void onUpdate(T oldObj, T newObj) {
        lag.observe(resource, newObj);
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
    PodUsage now = node != null && counts(pod) ? new PodUsage(node, Resources.requestsOf(pod)) : null;
    PodUsage before = now == null ? podUsage.remove(uid) : podUsage.put(uid, now);
    if (before != null) {
      requested.computeIfPresent(before.node(), (k, r) -> r.minus(before.requests()));
    }
    if (now != null) {
      requested.merge(now.node(), now.requests(), Resources::plus);
    }
  }

  private void podRemoved(Pod pod) {
    PodUsage before = podUsage.remove(pod.getMetadata().getUid());
    if (before != null) {
      requested.computeIfPresent(before.node(), (k, r) -> r.minus(before.requests()));
    }
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
        ReplicaSet rs = replicaSets.getStore().getByKey(Cache.namespaceKeyFunc(ns, owner.name()));
        Optional<OwnerReference> deployment = rs == null ? Optional.empty() : controller(rs).filter(r -> r.getKind().equals("Deployment"));
        if (deployment.isPresent()) {
          Deployment d = deployments.getStore().getByKey(Cache.namespaceKeyFunc(ns, deployment.get().getName()));
          int desired = d != null && d.getSpec().getReplicas() != null ? d.getSpec().getReplicas() : 1;
          return new Workload(new WorkloadKey(ns, "Deployment", deployment.get().getName()), desired);
        }
        int desired = rs != null && rs.getSpec().getReplicas() != null ? rs.getSpec().getReplicas() : 1;
        return new Workload(new WorkloadKey(ns, "ReplicaSet", owner.name()), desired);
      }
      case "StatefulSet" -> {
        StatefulSet s = statefulSets.getStore().getByKey(Cache.namespaceKeyFunc(ns, owner.name()));
        int desired = s != null && s.getSpec().getReplicas() != null ? s.getSpec().getReplicas() : 1;
        return new Workload(new WorkloadKey(ns, "StatefulSet", owner.name()), desired);
      }
      case "Job" -> {
        Job j = jobs.getStore().getByKey(Cache.namespaceKeyFunc(ns, owner.name()));
        int desired = j != null && j.getSpec().getParallelism() != null ? j.getSpec().getParallelism() : 1;
        return new Workload(new WorkloadKey(ns, "Job", owner.name()), desired);
      }
      default -> {
        // Another controller (an operator's custom kind): its pods are the replicas it wants.
        int desired = Math.max(1, pods.getIndexer().byIndex(BY_OWNER, owner.uid()).size());
        return new Workload(new WorkloadKey(ns, owner.kind(), owner.name()), desired);
      }
    }
  }

  @Override
  public WorkloadPlacement placement(WorkloadKey workload, String excludedPodUid, InFlight inFlight) {
    List<Pod> replicas = podsOf(workload);
    if (replicas.isEmpty()) {
      return WorkloadPlacement.NONE;
    }
    PlacementTally tally = new PlacementTally(nodes::get);
    for (Pod p : replicas) {
      if (p.getMetadata().getUid().equals(excludedPodUid) || !counts(p)) {
        continue;
      }
      String nodeName = p.getSpec() == null ? null : p.getSpec().getNodeName();
      if (nodeName == null) {
        tally.unbound(inFlight.expected(p.getMetadata().getUid()));
      } else {
        tally.bound(nodeName);
      }
    }
    return tally.result();
  }

  private List<Pod> podsOf(WorkloadKey workload) {
    switch (workload.kind()) {
      case "Pod" -> {
        return List.of();
      }
      case "Deployment" -> {
        Deployment d = deployments.getStore().getByKey(Cache.namespaceKeyFunc(workload.namespace(), workload.name()));
        if (d == null) {
          return List.of();
        }
        List<Pod> out = new ArrayList<>();
        for (ReplicaSet rs : replicaSets.getIndexer().byIndex(BY_OWNER, d.getMetadata().getUid())) {
          out.addAll(pods.getIndexer().byIndex(BY_OWNER, rs.getMetadata().getUid()));
        }
        return out;
      }
      default -> {
        HasMetadata owner = switch (workload.kind()) {
          case "ReplicaSet" -> replicaSets.getStore().getByKey(Cache.namespaceKeyFunc(workload.namespace(), workload.name()));
          case "StatefulSet" -> statefulSets.getStore().getByKey(Cache.namespaceKeyFunc(workload.namespace(), workload.name()));
          case "Job" -> jobs.getStore().getByKey(Cache.namespaceKeyFunc(workload.namespace(), workload.name()));
          default -> null;
        };
        if (owner != null) {
          return pods.getIndexer().byIndex(BY_OWNER, owner.getMetadata().getUid());
        }
        // A custom controller: find its pods by owner name among the namespace's pods.
        return pods.getStore().list().stream().filter(p -> p.getMetadata().getNamespace().equals(workload.namespace())
            && controller(p).map(r -> r.getKind().equals(workload.kind()) && r.getName().equals(workload.name())).orElse(false)).toList();
      }
    }
  }

  @Override
  public void close() {
    informers.forEach(SharedIndexInformer::close);
  }
}
