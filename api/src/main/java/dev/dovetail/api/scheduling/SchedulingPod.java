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
import java.util.Comparator;
import java.util.List;
import java.util.Map;
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
