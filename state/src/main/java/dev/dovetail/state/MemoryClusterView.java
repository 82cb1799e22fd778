package dev.dovetail.state;

import dev.dovetail.api.distribution.PodFacts;
import dev.dovetail.api.distribution.RuleSet;
import dev.dovetail.api.scheduling.Resources;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A {@link ClusterView} held entirely in memory and changed by its owner: what-if snapshots for
 * simulation, benchmarks, and tests of code that reads a cluster view. Not thread-safe.
 */
public final class MemoryClusterView implements ClusterView {
  private final Map<String, NodeFacts> nodes = new LinkedHashMap<>();
  private final Map<String, BoundPod> pods = new LinkedHashMap<>();
  private final Map<String, Workload> owners = new HashMap<>();
  private final Map<String, Resources> requested = new HashMap<>();
  private final List<Consumer<String>> settledListeners = new ArrayList<>();
  private RuleSet rules = RuleSet.EMPTY;
  private boolean synced = true;

  private record BoundPod(WorkloadKey workload, Optional<String> node, Resources requests) {
  }

  public MemoryClusterView node(NodeFacts node) {
    nodes.put(node.name(), node);
    return this;
  }

  /** The node is gone (its pods are unbound or removed on their own). */
  public MemoryClusterView removeNode(String name) {
    nodes.remove(name);
    requested.remove(name);
    return this;
  }

  public MemoryClusterView rules(RuleSet rules) {
    this.rules = rules;
    return this;
  }

  public MemoryClusterView synced(boolean synced) {
    this.synced = synced;
    return this;
  }

  /** Declares the workload behind pods whose controlling owner has this kind and name. */
  public MemoryClusterView workload(String ownerKind, String ownerName, Workload workload) {
    owners.put(ownerKey(workload.key().namespace(), ownerKind, ownerName), workload);
    return this;
  }

  /** A replica of a workload, bound to {@code node} or (empty) not yet bound. */
  public MemoryClusterView pod(String uid, WorkloadKey workload, Optional<String> node, Resources requests) {
    BoundPod removed = pods.remove(uid);
    if (removed != null) {
      removed.node().ifPresent(n -> requested.computeIfPresent(n, (k, r) -> r.minus(removed.requests())));
    }
    pods.put(uid, new BoundPod(workload, node, requests));
    node.ifPresent(n -> {
      requested.merge(n, requests, Resources::plus);
      settledListeners.forEach(l -> l.accept(uid));
    });
    return this;
  }

  public MemoryClusterView removePod(String uid) {
    BoundPod removed = pods.remove(uid);
    if (removed != null) {
      removed.node().ifPresent(n -> requested.computeIfPresent(n, (k, r) -> r.minus(removed.requests())));
    }
    settledListeners.forEach(l -> l.accept(uid));
    return this;
  }

  private static String ownerKey(String namespace, String kind, String name) {
    return namespace + "/" + kind + "/" + name;
  }

  @Override
  public boolean synced() {
    return synced;
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
  public Workload workloadOf(PodFacts pod) {
    if (pod.owner().isEmpty()) {
      return new Workload(new WorkloadKey(pod.namespace(), "Pod", pod.name()), 1);
    }
    Workload declared = owners.get(ownerKey(pod.namespace(), pod.owner().get().kind(), pod.owner().get().name()));
    return declared != null ? declared
        : new Workload(new WorkloadKey(pod.namespace(), pod.owner().get().kind(), pod.owner().get().name()), 1);
  }

  @Override
  public WorkloadPlacement placement(Workload workload, String excludedPodUid, InFlight inFlight, boolean spread) {
    PlacementTally tally = new PlacementTally(nodes::get, spread);
    for (Map.Entry<String, BoundPod> e : pods.entrySet()) {
      BoundPod p = e.getValue();
      if (p.workload().equals(workload.key()) && !e.getKey().equals(excludedPodUid) && p.node().isPresent()) {
        tally.on(p.node().get(), 1);
      }
    }
    tally.inFlight(inFlight.pending(workload.key(), excludedPodUid));
    return tally.result();
  }

  @Override
  public void onPodSettled(Consumer<String> listener) {
    settledListeners.add(listener);
  }

  @Override
  public RuleSet rules() {
    return rules;
  }
}
