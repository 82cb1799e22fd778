package dev.dovetail.provisioner.nodepool;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.config.v1alpha1.ReplacementWindow;
import dev.dovetail.api.disruption.ReplacementWindows;
import dev.dovetail.api.drift.Hashes;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.NodePoolStatus;
import dev.dovetail.api.scheduling.Resources;
import dev.dovetail.provisioner.cluster.Caches;
import dev.dovetail.provisioner.controller.Reconciliation;
import dev.dovetail.provisioner.controller.Result;
import dev.dovetail.provisioner.kube.Conditions;
import dev.dovetail.provisioner.kube.Writer;
import dev.dovetail.provisioner.nodeclaim.NodeClaims;
import dev.dovetail.provisioner.provisioning.Templates;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A NodePool's status as Karpenter keeps it: the resources and node count of its NodeClaims,
 * {@code ValidationSucceeded} and {@code NodeClassReady} rolled up into {@code Ready} (a pool whose
 * EC2NodeClass is missing or not ready is not Ready, and says why), the drift hash annotation, and
 * {@value #CONSOLIDATION_WINDOW_OPEN} while a replacement window is configured.
 * Also publishes {@code karpenter_nodepools_usage} and {@code karpenter_nodepools_limit}.
 */
public final class NodePoolStatusController {
  /**
   * Condition, present while a ClusterOrchestratorConfig sets a replacement window: False (with why and
   * when it opens next) while the window keeps consolidation of the pool's nodes from starting.
   */
  public static final String CONSOLIDATION_WINDOW_OPEN = "ConsolidationWindowOpen";
  /** The operations consolidation needs open: moving pods is pod eviction as well. */
  private static final Set<ReplacementWindows.Operation> CONSOLIDATING = Set.of(ReplacementWindows.Operation.CONSOLIDATION,
      ReplacementWindows.Operation.POD_EVICTION);
  private final KubernetesClient client;
  private final Caches caches;
  private final Clock clock;
  private final MeterRegistry registry;
  private final Writer writer;
  private final Map<String, Double> gauges = new ConcurrentHashMap<>();
  private final Map<String, List<Meter>> meters = new ConcurrentHashMap<>();

  public NodePoolStatusController(KubernetesClient client, Caches caches, Clock clock, MeterRegistry registry) {
    this.client = client;
    this.caches = caches;
    this.clock = clock;
    this.registry = registry;
    this.writer = new Writer(client);
  }

  public CompletionStage<Result> reconcile(String name, Reconciliation context) {
    Optional<NodePool> cached = caches.nodePool(name);
    if (cached.isEmpty()) {
      forgetMeters(name);
      return Result.done();
    }
    NodePool pool = cached.get();
    String hash = Hashes.nodePool(pool);
    Map<String, String> annotations = pool.getMetadata().getAnnotations() == null ? Map.of() : pool.getMetadata().getAnnotations();
    if (!hash.equals(annotations.get(Hashes.NODEPOOL_HASH))) {
      client.resources(NodePool.class).withName(name).patch(PatchContext.of(PatchType.JSON_MERGE),
          "{\"metadata\":{\"annotations\":{\"" + Hashes.NODEPOOL_HASH + "\":\"" + hash + "\",\"" + Hashes.NODEPOOL_HASH_VERSION + "\":\""
              + Hashes.NODEPOOL_HASH_VERSION_VALUE + "\"}}}");
    }
    Resources usage = Resources.NONE;
    long nodes = 0;
    for (NodeClaim c : caches.nodeClaims()) {
      if (!name.equals(NodeClaims.pool(c))) {
        continue;
      }
      if (c.getStatus() != null && c.getStatus().capacity() != null) {
        usage = usage.plus(Resources.of(c.getStatus().capacity()));
      }
      if (c.getStatus() != null && c.getStatus().nodeName() != null) {
        nodes++;
      }
    }
    long generation = pool.getMetadata().getGeneration() == null ? 1 : pool.getMetadata().getGeneration();
    var ref = pool.getSpec().template().spec().nodeClassRef();
    Optional<EC2NodeClass> nodeClass = ref == null ? Optional.empty() : caches.nodeClass(ref.name());
    Optional<String> notReady = Templates.notReady(pool, nodeClass);
    Status before = Status.of(pool.getStatus());
    List<Condition> conditions = Conditions.set(before.conditions(), ConditionTypes.VALIDATION_SUCCEEDED, Condition.Status.True, "ValidationSucceeded", "",
        generation, clock.instant());
    boolean classReady = nodeClass.isPresent() && Templates.notReady(pool, nodeClass).map(r -> !r.startsWith("EC2NodeClass")).orElse(true);
    conditions = Conditions.set(conditions, ConditionTypes.NODE_CLASS_READY, Condition.Status.of(classReady), classReady ? "NodeClassReady"
        : nodeClass.isEmpty() ? "NodeClassNotFound" : "NodeClassNotReady", classReady ? "" : notReady.orElse(""), generation, clock.instant());
    boolean ready = notReady.isEmpty();
    conditions = Conditions.set(conditions, ConditionTypes.READY, Condition.Status.of(ready), ready ? "Ready" : "UnhealthyDependents",
        ready ? "" : notReady.get(), generation, clock.instant());
    Optional<ReplacementWindow> window = caches.orchestratorConfig().map(c -> c.getSpec().replacementWindow());
    if (window.isPresent()) {
      Optional<String> closed = ReplacementWindows.closed(window.get(), CONSOLIDATING, clock.instant());
      conditions = Conditions.set(conditions, CONSOLIDATION_WINDOW_OPEN, Condition.Status.of(closed.isEmpty()),
          closed.isEmpty() ? "InsideReplacementWindow" : "OutsideReplacementWindow", closed.orElse(""), generation, clock.instant());
    } else {
      conditions = Conditions.remove(conditions, CONSOLIDATION_WINDOW_OPEN);
    }
    Long observed = nodeClass.map(c -> c.getMetadata().getGeneration()).orElse(pool.getStatus() == null ? null : pool.getStatus().nodeClassObservedGeneration());
    var status = new NodePoolStatus(usage.toQuantities(), nodes, observed, conditions);
    if (!Objects.equals(pool.getStatus(), status)) {
      writer.patchStatus(NodePool.class, name, status);
    }
    publish(name, usage, nodes, pool.getSpec().limits() == null ? null : Resources.of(pool.getSpec().limits()));
    // A custom window opens and closes with the clock, not with any event: look again each minute.
    return window.filter(w -> w.type() == ReplacementWindow.Type.Custom).isPresent() ? Result.requeue(Duration.ofMinutes(1)) : Result.done();
  }

  private record Status(List<Condition> conditions) {
    static Status of(NodePoolStatus s) {
      return new Status(s == null || s.conditions() == null ? List.of() : s.conditions());
    }
  }

  private void publish(String pool, Resources usage, long nodes, Resources limits) {
    List<Meter> registered = meters.computeIfAbsent(pool, k -> new ArrayList<>());
    for (String resource : List.of("cpu", "memory", "pods", "ephemeral-storage", "nodes")) {
      double used = resource.equals("nodes") ? nodes : usage.get(resource) / (resource.equals("cpu") ? 1000.0 : 1.0);
      gauge(registered, "karpenter.nodepools.usage", "The amount of resources that have been provisioned for a nodepool.", pool, resource, used);
    }
    if (limits != null) {
      for (var e : limits.amounts().entrySet()) {
        double limit = e.getValue() / (e.getKey().equals("cpu") ? 1000.0 : 1.0);
        gauge(registered, "karpenter.nodepools.limit", "Limits specified on the nodepool that restrict the quantity of resources provisioned.",
            pool, e.getKey(), limit);
      }
    }
  }

  private void gauge(List<Meter> registered, String name, String help, String pool, String resource, double value) {
    String key = name + "|" + pool + "|" + resource;
    boolean fresh = gauges.put(key, value) == null;
    if (fresh) {
      registered.add(Gauge.builder(name, gauges, g -> g.getOrDefault(key, 0.0)).description(help).tag("nodepool", pool)
          .tag("resource_type", resource).register(registry));
    }
  }

  private void forgetMeters(String pool) {
    List<Meter> registered = meters.remove(pool);
    if (registered != null) {
      registered.forEach(registry::remove);
    }
    gauges.keySet().removeIf(k -> k.contains("|" + pool + "|"));
  }
}
