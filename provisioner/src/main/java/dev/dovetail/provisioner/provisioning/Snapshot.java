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
import java.util.function.Supplier;

/**
 * The capacity the simulation places pods on before opening new claims: running nodes and NodeClaims
 * in flight, with what they already hold. Nodes not yet initialized are treated as they will be once
 * they are (their startup and lifecycle taints ignored), so pods wait for them instead of triggering
 * more launches.
 */
public final class Snapshot {
  private Snapshot() {
  }

  /**
   * Nodes and in-flight claims to try, and the bound pods (for topology), as the caches had them: read
   * once, simulated many times ({@link #without}) with different nodes left out and pods placed anew.
   */
  public static final class Capacity {
    private final List<Entry> entries;
    private final List<SimNode> nodes;
    private final List<PlacedPod> placed;
    /** Entry index by each name it goes by. */
    private final Map<String, Integer> byName = new HashMap<>();
    /** Where each pod that holds room (bound or nominated) holds it, by pod UID. */
    private final Map<String, Held> heldBy = new HashMap<>();

    private record Held(int entry, Resources resources) {
    }

    /**
     * @param entries the nodes and in-flight claims, in the order they are tried
     * @param placed the pods counted where they run (or are nominated to), for topology
     */
    public Capacity(List<Entry> entries, List<PlacedPod> placed) {
      this.entries = List.copyOf(entries);
      this.nodes = this.entries.stream().map(Entry::node).toList();
      this.placed = List.copyOf(placed);
      for (int i = 0; i < this.entries.size(); i++) {
        for (String name : this.entries.get(i).names()) {
          byName.put(name, i);
        }
        for (var h : this.entries.get(i).held().entrySet()) {
          heldBy.put(h.getKey(), new Held(i, h.getValue()));
        }
      }
    }

    /**
     * Whether the node or claim of this name is ready for pods now: not a claim in flight, and, if a NodePool
     * launched it, Initialized ({@code karpenter.sh/initialized}). A name it does not hold counts as ready.
     */
    public boolean initialized(String name) {
      Integer i = byName.get(name);
      if (i == null) {
        return true;
      }
      SimNode node = entries.get(i).node();
      return !node.inFlight() && (!node.labels().containsKey(WellKnownLabels.NODEPOOL) || "true".equals(node.labels().get(WellKnownLabels.INITIALIZED)));
    }

    /**
     * A node or in-flight claim: the names it goes by (node and NodeClaim), and the room the pods bound or
     * nominated to it hold there, by pod UID (included in the node's requests): a pod placed anew gives it
     * back.
     */
    public record Entry(SimNode node, Set<String> names, Map<String, Resources> held) {
      public Entry {
        names = Set.copyOf(names);
        held = Map.copyOf(held);
      }
    }

    /** A pod counted for topology where it runs, by UID. */
    public record PlacedPod(String uid, Scheduler.Placed placed) {
    }

    /** What one simulation starts from; the placed pods are listed only if asked for (topology). */
    public record View(List<SimNode> nodes, Supplier<List<Scheduler.Placed>> placedPods) {
    }

    /**
     * The capacity without the nodes and NodeClaims named in {@code removed}, and with the pods in
     * {@code simulated} (placed anew) taken out: the room they hold where they are nominated or bound
     * is free (a pod read as pending may have bound since: it is placed once, not also counted where it
     * runs), and where they run now does not count for topology (they are leaving). Costs what is
     * removed and released, not what the cluster holds.
     */
    public View without(Set<String> removed, Set<String> simulated) {
      Map<Integer, SimNode> changed = new HashMap<>();
      for (String name : removed) {
        Integer i = byName.get(name);
        if (i != null) {
          changed.put(i, null);
        }
      }
      Map<Integer, Resources> released = new HashMap<>();
      for (String uid : simulated) {
        Held h = heldBy.get(uid);
        if (h != null && !changed.containsKey(h.entry())) {
          released.merge(h.entry(), h.resources(), Resources::plus);
        }
      }
      for (var r : released.entrySet()) {
        SimNode node = entries.get(r.getKey()).node();
        changed.put(r.getKey(), node.withRequested(node.requested().minus(r.getValue())));
      }
      List<SimNode> out;
      if (changed.isEmpty()) {
        out = nodes;
      } else {
        out = new ArrayList<>(nodes.size());
        for (int i = 0; i < nodes.size(); i++) {
          if (!changed.containsKey(i)) {
            out.add(nodes.get(i));
          } else if (changed.get(i) != null) {
            out.add(changed.get(i));
          }
        }
      }
      return new View(out, () -> {
        List<Scheduler.Placed> pods = new ArrayList<>(placed.size());
        for (PlacedPod p : placed) {
          if (!simulated.contains(p.uid())) {
            pods.add(p.placed());
          }
        }
        return pods;
      });
    }
  }

  /** Everything the caches hold: the nodes and in-flight claims, and the pods placed. */
  public static Capacity of(Caches caches, Map<String, ClaimTemplate> templatesByPool) {
    // Pods nominated to a node but not bound yet hold room there (kube-scheduler reserves it for them).
    Map<String, Map<String, Resources>> nominated = new HashMap<>();
    for (Pod p : caches.pods()) {
      String target = p.getStatus() == null ? null : p.getStatus().getNominatedNodeName();
      if (target != null && !target.isEmpty() && (p.getSpec() == null || p.getSpec().getNodeName() == null) && live(p)) {
        nominated.computeIfAbsent(target, k -> new HashMap<>()).put(p.getMetadata().getUid(), Resources.requestsOf(p));
      }
    }
    List<Capacity.Entry> out = new ArrayList<>();
    Map<String, Map<String, String>> nodeLabels = new HashMap<>();
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
      if (!usable(node) || (claim != null && claim.getMetadata().getDeletionTimestamp() != null)) {
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
      // Requests summed from the same pod cache the pending pods are read from, so that a pod placed anew
      // gives back exactly what it holds here.
      Set<String> ports = new HashSet<>();
      Map<String, Resources> held = new HashMap<>(nominated.getOrDefault(name, Map.of()));
      for (Pod p : caches.podsOn(name)) {
        if (live(p)) {
          hostPorts(p, ports);
          held.put(p.getMetadata().getUid(), Resources.requestsOf(p));
        }
      }
      Resources requested = Resources.NONE;
      for (Resources r : held.values()) {
        requested = requested.plus(r);
      }
      Set<String> names = claim == null ? Set.of(name) : Set.of(name, claim.getMetadata().getName());
      out.add(new Capacity.Entry(SimNode.node(name, labels, taints, allocatable, requested, ports), names, held));
    }
    for (NodeClaim claim : caches.nodeClaims()) {
      String name = claim.getMetadata().getName();
      if (claimsWithNodes.contains(name) || claim.getMetadata().getDeletionTimestamp() != null) {
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
      out.add(new Capacity.Entry(new SimNode(name, labels, requirements, Taints.toKubernetes(claim.getSpec().taints()),
          allocatable, requested, Set.of(), true), Set.of(name), Map.of()));
    }
    List<Capacity.PlacedPod> placed = new ArrayList<>();
    for (Pod p : caches.pods()) {
      String node = p.getSpec() == null ? null : p.getSpec().getNodeName();
      if (node == null && p.getStatus() != null && p.getStatus().getNominatedNodeName() != null
          && !p.getStatus().getNominatedNodeName().isEmpty()) {
        // Nominated and about to bind: count it where it is going, or spread would look uneven meanwhile.
        node = p.getStatus().getNominatedNodeName();
      }
      if (node == null || !live(p)) {
        continue;
      }
      Map<String, String> labels = nodeLabels.get(node);
      if (labels != null) {
        placed.add(new Capacity.PlacedPod(p.getMetadata().getUid(), new Scheduler.Placed(p.getMetadata().getNamespace(),
            p.getMetadata().getLabels() == null ? Map.of() : p.getMetadata().getLabels(), labels)));
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
