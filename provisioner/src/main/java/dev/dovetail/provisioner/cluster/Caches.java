package dev.dovetail.provisioner.cluster;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfig;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.state.Indexes;
import dev.dovetail.state.InformerClusterView;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The provisioner's picture of the cluster, from informers: the shared cluster view (nodes, pods,
 * workloads and distribution rules, one watch each for the whole process) plus NodePools, NodeClaims,
 * EC2NodeClasses, DaemonSets and the volumes that pin pods to zones. Everything the controllers read
 * comes from here; they only write to the API server.
 */
public final class Caches implements AutoCloseable {
  /** Pods by {@code spec.nodeName}. */
  public static final String PODS_BY_NODE = "byNode";
  /** NodeClaims by {@code status.providerID}; Nodes by {@code spec.providerID}. */
  public static final String BY_PROVIDER_ID = "byProviderID";
  /** NodeClaims by their launch group annotation. */
  public static final String BY_LAUNCH_GROUP = "byLaunchGroup";
  /** PodDisruptionBudgets by namespace. */
  public static final String BY_NAMESPACE = "byNamespace";
  /** NodeClaims by {@code status.nodeName}. */
  public static final String CLAIMS_BY_NODE = "byNode";

  private final InformerClusterView view;
  private final List<SharedIndexInformer<?>> own = new ArrayList<>();
  private SharedIndexInformer<NodePool> nodePools;
  private SharedIndexInformer<NodeClaim> nodeClaims;
  private SharedIndexInformer<EC2NodeClass> nodeClasses;
  private SharedIndexInformer<DaemonSet> daemonSets;
  private SharedIndexInformer<PersistentVolumeClaim> claims;
  private SharedIndexInformer<PersistentVolume> volumes;
  private SharedIndexInformer<PodDisruptionBudget> budgets;
  /** Set when the caches start; the AWS provider asks whether commitments are on before that. */
  private volatile SharedIndexInformer<ClusterOrchestratorConfig> configs;
  private final List<ResourceEventHandler<NodePool>> poolHandlers = new ArrayList<>();
  private final List<ResourceEventHandler<NodeClaim>> claimHandlers = new ArrayList<>();
  private final List<ResourceEventHandler<EC2NodeClass>> classHandlers = new ArrayList<>();
  private final List<ResourceEventHandler<ClusterOrchestratorConfig>> configHandlers = new ArrayList<>();
  private final CompletableFuture<Void> synced = new CompletableFuture<>();

  public Caches(Supplier<Catalog> catalog, MeterRegistry registry) {
    this.view = new InformerClusterView(catalog, registry)
        .indexPods(PODS_BY_NODE, p -> p.getSpec() != null && p.getSpec().getNodeName() != null ? List.of(p.getSpec().getNodeName()) : List.of())
        .indexNodes(BY_PROVIDER_ID, n -> n.getSpec() != null && n.getSpec().getProviderID() != null ? List.of(n.getSpec().getProviderID()) : List.of());
  }

  public InformerClusterView view() {
    return view;
  }

  // Handlers are registered before start(), so none misses the initial list.

  public Caches onPods(ResourceEventHandler<Pod> handler) {
    view.onPods(handler);
    return this;
  }

  public Caches onNodes(ResourceEventHandler<Node> handler) {
    view.onNodes(handler);
    return this;
  }

  public Caches onNodePools(ResourceEventHandler<NodePool> handler) {
    poolHandlers.add(handler);
    return this;
  }

  public Caches onNodeClaims(ResourceEventHandler<NodeClaim> handler) {
    claimHandlers.add(handler);
    return this;
  }

  public Caches onOrchestratorConfigs(ResourceEventHandler<ClusterOrchestratorConfig> handler) {
    configHandlers.add(handler);
    return this;
  }

  public Caches onNodeClasses(ResourceEventHandler<EC2NodeClass> handler) {
    classHandlers.add(handler);
    return this;
  }

  /**
   * Starts the informers; returns once each has its first list. The provisioner's own (NodeClaims first
   * among them) run before the shared view's nodes and pods, whose handlers look claims up: on a cluster
   * that already has nodes and pods, their first events must find the claims' informer there.
   */
  public Caches start(KubernetesClient client) {
    nodePools = client.resources(NodePool.class).runnableInformer(0);
    poolHandlers.forEach(nodePools::addEventHandler);
    nodeClaims = client.resources(NodeClaim.class).runnableInformer(0);
    nodeClaims.addIndexers(Map.of(
        BY_PROVIDER_ID, c -> c.getStatus() != null && c.getStatus().providerID() != null ? List.of(c.getStatus().providerID()) : List.of(),
        CLAIMS_BY_NODE, c -> c.getStatus() != null && c.getStatus().nodeName() != null ? List.of(c.getStatus().nodeName()) : List.of(),
        BY_LAUNCH_GROUP, c -> c.getMetadata().getAnnotations() != null && c.getMetadata().getAnnotations().containsKey(DovetailLabels.LAUNCH_GROUP)
            ? List.of(c.getMetadata().getAnnotations().get(DovetailLabels.LAUNCH_GROUP)) : List.of()));
    claimHandlers.forEach(nodeClaims::addEventHandler);
    nodeClasses = client.resources(EC2NodeClass.class).runnableInformer(0);
    classHandlers.forEach(nodeClasses::addEventHandler);
    daemonSets = client.apps().daemonSets().inAnyNamespace().runnableInformer(0);
    claims = client.persistentVolumeClaims().inAnyNamespace().runnableInformer(0);
    volumes = client.persistentVolumes().runnableInformer(0);
    budgets = client.policy().v1().podDisruptionBudget().inAnyNamespace().runnableInformer(0);
    budgets.addIndexers(Map.of(BY_NAMESPACE, b -> List.of(b.getMetadata().getNamespace())));
    configs = client.resources(ClusterOrchestratorConfig.class).runnableInformer(0);
    configHandlers.forEach(configs::addEventHandler);
    own.addAll(List.of(nodePools, nodeClaims, nodeClasses, daemonSets, claims, volumes, budgets, configs));
    own.forEach(SharedIndexInformer::run);  // each returns once its first list is in
    view.start(client);
    synced.complete(null);
    return this;
  }

  /** Completes once every informer has its first list (at the end of {@link #start}). */
  public CompletableFuture<Void> whenSynced() {
    return synced;
  }

  public boolean synced() {
    return view.synced() && own.stream().allMatch(SharedIndexInformer::hasSynced);
  }

  public List<NodePool> nodePools() {
    return nodePools.getStore().list();
  }

  public Optional<NodePool> nodePool(String name) {
    return Optional.ofNullable(nodePools.getStore().getByKey(name));
  }

  public List<NodeClaim> nodeClaims() {
    return nodeClaims.getStore().list();
  }

  public Optional<NodeClaim> nodeClaim(String name) {
    return Optional.ofNullable(nodeClaims.getStore().getByKey(name));
  }

  public Optional<NodeClaim> nodeClaimByProviderId(String providerId) {
    return Indexes.byIndex(nodeClaims.getIndexer(), BY_PROVIDER_ID, providerId).stream().findFirst();
  }

  public List<NodeClaim> launchGroup(String group) {
    return Indexes.byIndex(nodeClaims.getIndexer(), BY_LAUNCH_GROUP, group);
  }

  /**
   * The claim of a node: the one whose status names it, or, before registration has written that (the node is
   * released first, so pods can be bound to it already), the one with the node's provider ID.
   */
  public Optional<NodeClaim> nodeClaimOfNode(String nodeName) {
    return Indexes.byIndex(nodeClaims.getIndexer(), CLAIMS_BY_NODE, nodeName).stream().findFirst()
        .or(() -> node(nodeName).map(n -> n.getSpec() == null ? null : n.getSpec().getProviderID()).flatMap(this::nodeClaimByProviderId));
  }

  public Optional<EC2NodeClass> nodeClass(String name) {
    return Optional.ofNullable(nodeClasses.getStore().getByKey(name));
  }

  public List<EC2NodeClass> nodeClasses() {
    return nodeClasses.getStore().list();
  }

  public List<Node> nodes() {
    return view.nodes().getStore().list();
  }

  public Optional<Node> node(String name) {
    return Optional.ofNullable(view.nodes().getStore().getByKey(name));
  }

  public Optional<Node> nodeByProviderId(String providerId) {
    return Indexes.byIndex(view.nodes().getIndexer(), BY_PROVIDER_ID, providerId).stream().findFirst();
  }

  public List<Pod> pods() {
    return view.pods().getStore().list();
  }

  public Optional<Pod> pod(String namespace, String name) {
    return Optional.ofNullable(view.pods().getStore().getByKey(namespace + "/" + name));
  }

  /** The cluster's {@code ClusterOrchestratorConfig} (the one named default), unless there is none or it is disabled. */
  public Optional<ClusterOrchestratorConfig> orchestratorConfig() {
    return configuration().filter(c -> c.getSpec() != null && !Boolean.TRUE.equals(c.getSpec().disabled()));
  }

  /** The cluster's {@code ClusterOrchestratorConfig} (the one named default), disabled or not. */
  public Optional<ClusterOrchestratorConfig> configuration() {
    SharedIndexInformer<ClusterOrchestratorConfig> informer = configs;
    // Before the caches start there is no config to go by: nothing from it is in force yet.
    return informer == null ? Optional.empty() : Optional.ofNullable(informer.getStore().getByKey(ClusterOrchestratorConfig.NAME));
  }

  /** The PodDisruptionBudgets of a namespace. */
  public List<PodDisruptionBudget> disruptionBudgets(String namespace) {
    return Indexes.byIndex(budgets.getIndexer(), BY_NAMESPACE, namespace);
  }

  public List<Pod> podsOn(String nodeName) {
    return Indexes.byIndex(view.pods().getIndexer(), PODS_BY_NODE, nodeName);
  }

  public List<DaemonSet> daemonSets() {
    return daemonSets.getStore().list();
  }

  public Optional<PersistentVolumeClaim> volumeClaim(String namespace, String name) {
    return Optional.ofNullable(claims.getStore().getByKey(namespace + "/" + name));
  }

  public Optional<PersistentVolume> volume(String name) {
    return Optional.ofNullable(volumes.getStore().getByKey(name));
  }

  /** A handler from two lambdas (changed, deleted), for the common case. */
  public static <T extends HasMetadata> ResourceEventHandler<T> handler(Consumer<T> changed, BiConsumer<T, Boolean> deleted) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        changed.accept(obj);
      }

      @Override
      public void onUpdate(T oldObj, T newObj) {
        changed.accept(newObj);
      }

      @Override
      public void onDelete(T obj, boolean deletedFinalStateUnknown) {
        deleted.accept(obj, deletedFinalStateUnknown);
      }
    };
  }

  @Override
  public void close() {
    own.forEach(SharedIndexInformer::close);
    view.close();
  }
}
