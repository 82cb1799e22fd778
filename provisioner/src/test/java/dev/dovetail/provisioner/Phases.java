package dev.dovetail.provisioner;

import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * When each step of a scale-out happened, seen from the API server through watches (with the bench's
 * clock, to the millisecond; object timestamps have only seconds): per pod, created, found unschedulable,
 * bound, Running; per NodeClaim, created, Launched, Registered, Initialized; per Node, created. Each
 * pod's way is then split into phases through the NodeClaim of the node it ran on.
 */
final class Phases implements AutoCloseable {
  /** The phases, in order, each from the end of the one before. */
  static final List<String> NAMES = List.of("created -> unschedulable", "unschedulable -> NodeClaim", "NodeClaim -> launched",
      "launched -> Node", "Node -> registered", "registered -> initialized", "registered -> pod bound", "bound -> Running",
      "created -> Running");

  private final Map<String, Long> podCreated = new ConcurrentHashMap<>();
  private final Map<String, Long> podUnschedulable = new ConcurrentHashMap<>();
  private final Map<String, Long> podBound = new ConcurrentHashMap<>();
  private final Map<String, Long> podRunning = new ConcurrentHashMap<>();
  private final Map<String, String> podNode = new ConcurrentHashMap<>();
  private final Map<String, Long> claimCreated = new ConcurrentHashMap<>();
  private final Map<String, Long> claimLaunched = new ConcurrentHashMap<>();
  private final Map<String, Long> claimRegistered = new ConcurrentHashMap<>();
  private final Map<String, Long> claimInitialized = new ConcurrentHashMap<>();
  private final Map<String, String> claimOfProvider = new ConcurrentHashMap<>();
  private final Map<String, Long> nodeCreated = new ConcurrentHashMap<>();
  private final Map<String, String> providerOfNode = new ConcurrentHashMap<>();
  private final List<SharedIndexInformer<?>> informers = new ArrayList<>();

  Phases(KubernetesClient client, String namespace, String poolLabel) {
    informers.add(client.pods().inNamespace(namespace).inform(handler(this::pod)));
    informers.add(client.resources(NodeClaim.class).withLabel(WellKnownLabels.NODEPOOL, poolLabel).inform(handler(this::claim)));
    informers.add(client.nodes().inform(handler(this::node)));
  }

  /** The client returned from creating the pod (before any watch event). */
  void created(String pod, long nanos) {
    podCreated.putIfAbsent(pod, nanos);
  }

  private static <T> ResourceEventHandler<T> handler(Consumer<T> seen) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        seen.accept(obj);
      }

      @Override
      public void onUpdate(T oldObj, T newObj) {
        seen.accept(newObj);
      }

      @Override
      public void onDelete(T obj, boolean deletedFinalStateUnknown) {
      }
    };
  }

  private void pod(Pod p) {
    long now = System.nanoTime();
    String name = p.getMetadata().getName();
    if (p.getStatus() != null && p.getStatus().getConditions() != null) {
      for (PodCondition c : p.getStatus().getConditions()) {
        if ("PodScheduled".equals(c.getType()) && "False".equals(c.getStatus()) && "Unschedulable".equals(c.getReason())) {
          podUnschedulable.putIfAbsent(name, now);
        }
      }
    }
    if (p.getSpec() != null && p.getSpec().getNodeName() != null) {
      podBound.putIfAbsent(name, now);
      podNode.put(name, p.getSpec().getNodeName());
    }
    if (p.getStatus() != null && "Running".equals(p.getStatus().getPhase())) {
      podRunning.putIfAbsent(name, now);
    }
  }

  private void claim(NodeClaim c) {
    long now = System.nanoTime();
    String name = c.getMetadata().getName();
    claimCreated.putIfAbsent(name, now);
    if (c.getStatus() == null || c.getStatus().conditions() == null) {
      return;
    }
    if (c.getStatus().providerID() != null) {
      claimOfProvider.put(c.getStatus().providerID(), name);
    }
    c.getStatus().conditions().forEach(k -> {
      if (k.isTrue()) {
        switch (k.type()) {
          case ConditionTypes.LAUNCHED -> claimLaunched.putIfAbsent(name, now);
          case ConditionTypes.REGISTERED -> claimRegistered.putIfAbsent(name, now);
          case ConditionTypes.INITIALIZED -> claimInitialized.putIfAbsent(name, now);
          default -> { }
        }
      }
    });
  }

  private void node(Node n) {
    nodeCreated.putIfAbsent(n.getMetadata().getName(), System.nanoTime());
    if (n.getSpec() != null && n.getSpec().getProviderID() != null) {
      providerOfNode.put(n.getMetadata().getName(), n.getSpec().getProviderID());
    }
  }

  /** How many pods have been seen Running. */
  int running() {
    return podRunning.size();
  }

  /** How many NodeClaims have been seen. */
  int claims() {
    return claimCreated.size();
  }

  /** When the first NodeClaim was seen ({@code nanoTime}), if one was. */
  OptionalLong firstClaim() {
    return claimCreated.values().stream().mapToLong(Long::longValue).min();
  }

  /** When the last NodeClaim was seen. */
  OptionalLong lastClaim() {
    return claimCreated.values().stream().mapToLong(Long::longValue).max();
  }

  /** When the last pod was seen Running. */
  OptionalLong lastRunning() {
    return podRunning.values().stream().mapToLong(Long::longValue).max();
  }

  /** Per phase, the durations (ms) of every pod that got through it. */
  Map<String, List<Double>> durations() {
    Map<String, List<Double>> out = new LinkedHashMap<>();
    NAMES.forEach(n -> out.put(n, new ArrayList<>()));
    for (String pod : podCreated.keySet()) {
      Long created = podCreated.get(pod);
      Long unschedulable = podUnschedulable.get(pod);
      Long bound = podBound.get(pod);
      Long running = podRunning.get(pod);
      String node = podNode.get(pod);
      String claim = node == null ? null : Optional.ofNullable(providerOfNode.get(node)).map(claimOfProvider::get).orElse(null);
      add(out, "created -> unschedulable", created, unschedulable);
      add(out, "created -> Running", created, running);
      add(out, "bound -> Running", bound, running);
      if (claim != null) {
        add(out, "unschedulable -> NodeClaim", unschedulable, claimCreated.get(claim));
        add(out, "NodeClaim -> launched", claimCreated.get(claim), claimLaunched.get(claim));
        add(out, "launched -> Node", claimLaunched.get(claim), nodeCreated.get(node));
        add(out, "Node -> registered", nodeCreated.get(node), claimRegistered.get(claim));
        add(out, "registered -> initialized", claimRegistered.get(claim), claimInitialized.get(claim));
        add(out, "registered -> pod bound", claimRegistered.get(claim), bound);
      }
    }
    return out;
  }

  private static void add(Map<String, List<Double>> out, String phase, Long from, Long to) {
    if (from != null && to != null) {
      out.get(phase).add((to - from) / 1e6);
    }
  }

  /** A markdown table: per phase, how many pods, p50 and p99 in ms (a negative time: the step came first). */
  String table() {
    StringBuilder s = new StringBuilder("| phase | pods | p50 ms | p99 ms |\n|---|---:|---:|---:|\n");
    durations().forEach((phase, values) -> {
      List<Double> sorted = values.stream().sorted().toList();
      s.append(String.format(Locale.ROOT, "| %s | %d | %s | %s |%n", phase, sorted.size(), percentile(sorted, 0.5), percentile(sorted, 0.99)));
    });
    return s.toString();
  }

  private static String percentile(List<Double> sorted, double q) {
    if (sorted.isEmpty()) {
      return "-";
    }
    return String.format(Locale.ROOT, "%,.0f", sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(q * sorted.size()) - 1)));
  }

  @Override
  public void close() {
    informers.forEach(SharedIndexInformer::close);
  }
}
