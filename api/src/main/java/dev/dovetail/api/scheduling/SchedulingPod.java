package dev.dovetail.api.scheduling;

import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.NodeSelectorTerm;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodAffinityTerm;
import io.fabric8.kubernetes.api.model.PreferredSchedulingTerm;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TopologySpreadConstraint;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the scheduling simulation needs to know of a pending pod: its requests, the node requirements it
 * accepts (alternatives: the ORed terms of its required node affinity, each with its node selector and
 * any requirement the provisioner adds, such as the capacity type from the distribution), tolerations,
 * host ports, and required topology terms.
 *
 * @param preferred requirements from the heaviest preferred node-affinity term, tried first and dropped if they do not fit
 */
public record SchedulingPod(
    String uid,
    String namespace,
    String name,
    Map<String, String> labels,
    Resources requests,
    List<Requirements> alternatives,
    Requirements preferred,
    List<Toleration> tolerations,
    Set<String> hostPorts,
    List<TopologyTerm> topology,
    long createdAtMillis,
    Shape shape) {

  /** Everything but identity and topology: pods of one shape fit the same nodes the same way. */
  public record Shape(Resources requests, List<Requirements> alternatives, Requirements preferred, List<Toleration> tolerations,
      Set<String> hostPorts) {
  }

  public SchedulingPod {
    labels = labels == null ? Map.of() : Map.copyOf(labels);
    alternatives = List.copyOf(alternatives);
    tolerations = tolerations == null ? List.of() : List.copyOf(tolerations);
    hostPorts = Set.copyOf(hostPorts);
    topology = List.copyOf(topology);
  }

  /** Pods in the order Karpenter packs them: CPU, then memory, descending; then age and uid. */
  public static final Comparator<SchedulingPod> PACKING_ORDER = Comparator
      .comparingLong((SchedulingPod p) -> -p.requests().cpuMillis())
      .thenComparingLong(p -> -p.requests().memoryBytes())
      .thenComparingLong(SchedulingPod::createdAtMillis)
      .thenComparing(SchedulingPod::uid);

  /**
   * The order pods are packed in: Karpenter's ({@link #PACKING_ORDER}) within each shape (pods asking for
   * the same resources), the shapes interleaved in proportion to their numbers, the larger shape first at
   * each tie. Packed one shape after another, the CPU-heavy pods fill the first nodes' CPU and leave their
   * memory idle, and the memory-heavy pods that come last need nodes of their own, of a memory-optimized
   * type dearer per CPU. Interleaved, each node takes about the batch's own mix of CPU and memory, so the
   * cheapest type that holds it strands little of either. A batch of one shape keeps Karpenter's order.
   */
  public static List<SchedulingPod> packingOrder(Collection<SchedulingPod> pods) {
    List<SchedulingPod> sorted = new ArrayList<>(pods);
    sorted.sort(PACKING_ORDER);
    Map<Resources, List<SchedulingPod>> byShape = new LinkedHashMap<>();
    for (SchedulingPod p : sorted) {
      byShape.computeIfAbsent(p.requests(), k -> new ArrayList<>()).add(p);
    }
    if (byShape.size() <= 1) {
      return sorted;
    }
    List<List<SchedulingPod>> shapes = new ArrayList<>(byShape.values());
    long total = sorted.size();
    int[] taken = new int[shapes.size()];
    // Earliest deadline first over a shape's next pod, released once the shape is no longer ahead of its share:
    // shape s (n of N pods) may place its next pod at step k once taken <= k·n/N, and should have by the step
    // where k·n/N reaches taken + 1. Over unit steps, earliest-deadline-first meets every deadline that can be
    // met, and some order keeps every shape within one pod of its share after every prefix (Tijdeman), so this
    // one does. Ties go to the larger shape.
    Comparator<Integer> byDeadline = (a, b) -> {
      long left = (taken[a] + 1L) * shapes.get(b).size();
      long right = (taken[b] + 1L) * shapes.get(a).size();
      return left != right ? Long.compare(left, right) : Integer.compare(a, b);
    };
    long[] release = new long[shapes.size()];
    PriorityQueue<Integer> waiting = new PriorityQueue<>(Comparator.comparingLong((Integer s) -> release[s]).thenComparingInt(s -> s));
    PriorityQueue<Integer> ready = new PriorityQueue<>(byDeadline);
    for (int s = 0; s < shapes.size(); s++) {
      ready.add(s);
    }
    List<SchedulingPod> out = new ArrayList<>(sorted.size());
    for (long step = 1; step <= total; step++) {
      while (!waiting.isEmpty() && release[waiting.peek()] <= step) {
        ready.add(waiting.poll());
      }
      int s = ready.poll();
      out.add(shapes.get(s).get(taken[s]++));
      int count = shapes.get(s).size();
      if (taken[s] < count) {
        release[s] = (taken[s] * total + count - 1) / count; // the first step k with k·n/N >= taken
        waiting.add(s);
      }
    }
    return out;
  }

  /** Reads a pod; {@code extra} is ANDed into every alternative (the provisioner's capacity type, volume zones). */
  public static SchedulingPod of(Pod pod, Requirements extra) {
    var spec = pod.getSpec();
    Requirements base = Requirements.ofLabels(spec.getNodeSelector()).and(extra);
    List<Requirements> alternatives = new ArrayList<>();
    Requirements preferred = Requirements.NONE;
    var nodeAffinity = spec.getAffinity() == null ? null : spec.getAffinity().getNodeAffinity();
    if (nodeAffinity != null && nodeAffinity.getRequiredDuringSchedulingIgnoredDuringExecution() != null
        && nodeAffinity.getRequiredDuringSchedulingIgnoredDuringExecution().getNodeSelectorTerms() != null) {
      for (NodeSelectorTerm term : nodeAffinity.getRequiredDuringSchedulingIgnoredDuringExecution().getNodeSelectorTerms()) {
        alternatives.add(base.and(Requirements.ofTerm(term)));
      }
    }
    if (alternatives.isEmpty()) {
      alternatives.add(base);
    }
    if (nodeAffinity != null && nodeAffinity.getPreferredDuringSchedulingIgnoredDuringExecution() != null) {
      preferred = nodeAffinity.getPreferredDuringSchedulingIgnoredDuringExecution().stream()
          .max(Comparator.comparingInt(PreferredSchedulingTerm::getWeight))
          .map(t -> Requirements.ofTerm(t.getPreference())).orElse(Requirements.NONE);
    }
    Set<String> ports = new TreeSet<>();
    for (Container c : spec.getContainers()) {
      if (c.getPorts() != null) {
        for (ContainerPort p : c.getPorts()) {
          if (p.getHostPort() != null && p.getHostPort() > 0) {
            ports.add((p.getProtocol() == null ? "TCP" : p.getProtocol()) + "/" + p.getHostPort());
          }
        }
      }
    }
    List<TopologyTerm> topology = new ArrayList<>();
    String ns = pod.getMetadata().getNamespace();
    if (spec.getTopologySpreadConstraints() != null) {
      for (TopologySpreadConstraint c : spec.getTopologySpreadConstraints()) {
        if ("DoNotSchedule".equals(c.getWhenUnsatisfiable())) {
          topology.add(new TopologyTerm(TopologyTerm.Kind.SPREAD, WellKnownLabels.normalize(c.getTopologyKey()), c.getLabelSelector(),
              Set.of(ns), c.getMaxSkew() == null ? 1 : c.getMaxSkew(), !"Ignore".equals(c.getNodeAffinityPolicy()),
              "Honor".equals(c.getNodeTaintsPolicy())));
        }
      }
    }
    var affinity = spec.getAffinity();
    if (affinity != null && affinity.getPodAffinity() != null && affinity.getPodAffinity().getRequiredDuringSchedulingIgnoredDuringExecution() != null) {
      for (PodAffinityTerm t : affinity.getPodAffinity().getRequiredDuringSchedulingIgnoredDuringExecution()) {
        topology.add(term(TopologyTerm.Kind.AFFINITY, t, ns));
      }
    }
    if (affinity != null && affinity.getPodAntiAffinity() != null
        && affinity.getPodAntiAffinity().getRequiredDuringSchedulingIgnoredDuringExecution() != null) {
      for (PodAffinityTerm t : affinity.getPodAntiAffinity().getRequiredDuringSchedulingIgnoredDuringExecution()) {
        topology.add(term(TopologyTerm.Kind.ANTI_AFFINITY, t, ns));
      }
    }
    Resources requests = Resources.requestsOf(pod);
    String created = pod.getMetadata().getCreationTimestamp();
    long createdAt = created == null ? 0 : Instant.parse(created).toEpochMilli();
    List<Toleration> tolerations = spec.getTolerations() == null ? List.of() : spec.getTolerations();
    return new SchedulingPod(pod.getMetadata().getUid(), ns, pod.getMetadata().getName(), pod.getMetadata().getLabels(), requests,
        alternatives, preferred, tolerations, ports, topology, createdAt,
        new Shape(requests, List.copyOf(alternatives), preferred, List.copyOf(tolerations), Set.copyOf(ports)));
  }

  private static TopologyTerm term(TopologyTerm.Kind kind, PodAffinityTerm t, String podNamespace) {
    // An empty namespaceSelector ({}) means every namespace; no namespaces and no selector means the pod's own.
    Set<String> namespaces = t.getNamespaceSelector() != null ? Set.of()
        : t.getNamespaces() == null || t.getNamespaces().isEmpty() ? Set.of(podNamespace) : Set.copyOf(t.getNamespaces());
    return new TopologyTerm(kind, WellKnownLabels.normalize(t.getTopologyKey()), t.getLabelSelector(), namespaces, 0);
  }
}
