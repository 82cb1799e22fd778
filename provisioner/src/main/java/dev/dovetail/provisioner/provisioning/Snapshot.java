package dev.dovetail.provisioner.provisioning;

import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.Taints;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.karpenter.v1.WellKnownTaints;
import dev.dovetail.api.scheduling.ClaimTemplate;
import dev.dovetail.api.scheduling.InstanceOption;
import dev.dovetail.api.scheduling.Requirements;
import dev.dovetail.api.scheduling.Resources;
import dev.dovetail.api.scheduling.Scheduler;
import dev.dovetail.api.scheduling.SimNode;
import dev.dovetail.provisioner.cluster.Caches;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Taint;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The capacity the simulation places pods on before opening new claims: running nodes and NodeClaims
 * in flight, with what they already hold. Nodes not yet initialized are treated as they will be once
 * they are (their startup and lifecycle taints ignored), so pods wait for them instead of triggering
 * more launches.
 */
public final class Snapshot {
  private Snapshot() {
  }

  /** Nodes and in-flight claims to try, and the bound pods (for topology), from the caches. */
  public record Capacity(List<SimNode> nodes, List<Scheduler.Placed> placedPods) {
  }

  public static Capacity of(Caches caches, Map<String, ClaimTemplate> templatesByPool) {
    return of(caches, templatesByPool, Set.of(), Set.of());
  }

  /**
   * @param simulated uids of pods placed anew: their nominations (if any) reserve nothing, and where they
   *     run now does not count for topology (they are leaving)
   * @param removed nodes and NodeClaims (by name) the simulation does without: candidates of a disruption
   */
  public static Capacity of(Caches caches, Map<String, ClaimTemplate> templatesByPool, Set<String> simulated, Set<String> removed) {
    List<SimNode> out = new ArrayList<>();
    Map<String, Map<String, String>> nodeLabels = new HashMap<>();
    // Pods nominated to a node but not bound yet hold room there (kube-scheduler reserves it for them).
    Map<String, Resources> nominated = new HashMap<>();
    for (Pod p : caches.pods()) {
      String target = p.getStatus() == null ? null : p.getStatus().getNominatedNodeName();
      if (target != null && !target.isEmpty() && (p.getSpec() == null || p.getSpec().getNodeName() == null) && live(p)
          && !simulated.contains(p.getMetadata().getUid())) {
        nominated.merge(target, Resources.requestsOf(p), Resources::plus);
      }
    }
    Set<String> claimsWithNodes = new HashSet<>();
    for (Node node : caches.nodes()) {
      String name = node.getMetadata().getName();
      Map<String, String> labels = new TreeMap<>(node.getMetadata().getLabels() == null ? Map.of() : node.getMetadata().getLabels());
      labels.putIfAbsent(WellKnownLabels.HOSTNAME, name);
      nodeLabels.put(name, labels);
      NodeClaim claim = node.getSpec() != null && node.getSpec().getProviderID() != null
          ? caches.nodeClaimByProviderId(node.getSpec().getProviderID()).orElse(null) : null;
      if (claim != null) {
        claimsWithNodes.add(claim.getMetadata().getName());
      }
      if (!usable(node) || (claim != null && claim.getMetadata().getDeletionTimestamp() != null) || removed.contains(name)
          || (claim != null && removed.contains(claim.getMetadata().getName()))) {
        continue;
      }
      List<Taint> taints = node.getSpec() == null || node.getSpec().getTaints() == null ? List.of() : node.getSpec().getTaints();
      if (!"true".equals(labels.get(WellKnownLabels.INITIALIZED)) && labels.containsKey(WellKnownLabels.NODEPOOL)) {
        Set<String> startup = new HashSet<>(WellKnownTaints.EPHEMERAL);
        if (claim != null && claim.getSpec().startupTaints() != null) {
          claim.getSpec().startupTaints().forEach(t -> startup.add(t.key()));
        }
        taints = taints.stream().filter(t -> !startup.contains(t.getKey())).toList();
      }
      Resources allocatable = node.getStatus() == null ? Resources.NONE : Resources.of(node.getStatus().getAllocatable());
      Set<String> ports = new HashSet<>();
      for (Pod p : caches.podsOn(name)) {
        if (live(p)) {
          hostPorts(p, ports);
        }
      }
      out.add(SimNode.node(name, labels, taints, allocatable, caches.view().requested(name).plus(nominated.getOrDefault(name, Resources.NONE)),
          ports));
    }
    for (NodeClaim claim : caches.nodeClaims()) {
      String name = claim.getMetadata().getName();
      if (claimsWithNodes.contains(name) || claim.getMetadata().getDeletionTimestamp() != null || removed.contains(name)) {
        continue;
      }
      Map<String, String> labels = claim.getMetadata().getLabels() == null ? Map.of() : claim.getMetadata().getLabels();
      ClaimTemplate template = templatesByPool.get(labels.get(WellKnownLabels.NODEPOOL));
      Requirements requirements = Requirements.ofKarpenter(claim.getSpec().requirements()).and(Requirements.ofLabels(labels));
      Resources allocatable;
      if (claim.getStatus() != null && claim.getStatus().allocatable() != null && !claim.getStatus().allocatable().isEmpty()) {
        allocatable = Resources.of(claim.getStatus().allocatable());
      } else {
        allocatable = template == null ? Resources.NONE : smallest(template.options(), requirements);
      }
      Resources requested = template == null ? Resources.NONE : template.daemonOverhead();
      out.add(new SimNode(name, labels, requirements, Taints.toKubernetes(claim.getSpec().taints()),
          allocatable, requested, Set.of(), true));
    }
    List<Scheduler.Placed> placed = new ArrayList<>();
    for (Pod p : caches.pods()) {
      String node = p.getSpec() == null ? null : p.getSpec().getNodeName();
      if (node == null && p.getStatus() != null && p.getStatus().getNominatedNodeName() != null
          && !p.getStatus().getNominatedNodeName().isEmpty() && !simulated.contains(p.getMetadata().getUid())) {
        // Nominated and about to bind: count it where it is going, or spread would look uneven meanwhile.
        node = p.getStatus().getNominatedNodeName();
      }
      if (node == null || !live(p) || simulated.contains(p.getMetadata().getUid())) {
        continue;
      }
      Map<String, String> labels = nodeLabels.get(node);
      if (labels != null) {
        placed.add(new Scheduler.Placed(p.getMetadata().getNamespace(), p.getMetadata().getLabels() == null ? Map.of() : p.getMetadata().getLabels(),
            labels));
      }
    }
    return new Capacity(out, placed);
  }

  /** Not cordoned, not being deleted, not being disrupted. */
  static boolean usable(Node node) {
    if (node.getMetadata().getDeletionTimestamp() != null || (node.getSpec() != null && Boolean.TRUE.equals(node.getSpec().getUnschedulable()))) {
      return false;
    }
    return node.getSpec() == null || node.getSpec().getTaints() == null
        || node.getSpec().getTaints().stream().noneMatch(t -> WellKnownTaints.DISRUPTED.equals(t.getKey()));
  }

  static boolean live(Pod p) {
    String phase = p.getStatus() == null ? null : p.getStatus().getPhase();
    return p.getMetadata().getDeletionTimestamp() == null && !"Succeeded".equals(phase) && !"Failed".equals(phase);
  }

  private static void hostPorts(Pod p, Set<String> ports) {
    if (p.getSpec() == null || p.getSpec().getContainers() == null) {
      return;
    }
    for (var c : p.getSpec().getContainers()) {
      if (c.getPorts() != null) {
        for (ContainerPort port : c.getPorts()) {
          if (port.getHostPort() != null && port.getHostPort() > 0) {
            ports.add((port.getProtocol() == null ? "TCP" : port.getProtocol()) + "/" + port.getHostPort());
          }
        }
      }
    }
  }

  /** The smallest allocatable, per resource, of the options a claim may become: what it is sure to have. */
  static Resources smallest(List<InstanceOption> options, Requirements requirements) {
    Map<String, Long> out = null;
    for (InstanceOption o : options) {
      if (!o.requirements().intersects(requirements)) {
        continue;
      }
      if (out == null) {
        out = new TreeMap<>(o.allocatable().amounts());
      } else {
        Map<String, Long> next = new TreeMap<>();
        for (var e : out.entrySet()) {
          next.put(e.getKey(), Math.min(e.getValue(), o.allocatable().get(e.getKey())));
        }
        out = next;
      }
    }
    return out == null ? Resources.NONE : new Resources(out);
  }
}
