package dev.dovetail.api.scheduling;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import io.fabric8.kubernetes.api.model.Taint;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A node pods may be placed on in the simulation: a running node, or a NodeClaim in flight (launched or
 * launching, not yet a node). Its requested resources and host ports grow as pods are placed on it; the
 * {@link Scheduler} places them on copies, so a node given to it stays as it was.
 */
public final class SimNode {
  private final String name;
  private final Map<String, String> labels;
  private final Requirements requirements;
  private final List<Taint> taints;
  private final Resources allocatable;
  private final boolean inFlight;
  private Resources requested;
  private final Set<String> hostPorts;
  /** Room left (allocatable less requested) in CPU millis, memory bytes and pods, kept as pods are added. */
  private long roomCpu;
  private long roomMemory;
  private long roomPods;

  public SimNode(String name, Map<String, String> labels, Requirements requirements, List<Taint> taints, Resources allocatable,
      Resources requested, Set<String> hostPorts, boolean inFlight) {
    this.name = name;
    this.labels = Map.copyOf(labels);
    // A launched claim has decided whether it stands in for spot: one without the fallback label is not fallback capacity.
    this.requirements = inFlight && !requirements.has(DovetailLabels.CAPACITY_FALLBACK)
        ? requirements.and(Requirement.doesNotExist(DovetailLabels.CAPACITY_FALLBACK)) : requirements;
    this.taints = taints == null ? List.of() : List.copyOf(taints);
    this.allocatable = allocatable;
    this.requested = requested;
    this.hostPorts = new HashSet<>(hostPorts);
    this.inFlight = inFlight;
    room();
  }

  private void room() {
    roomCpu = allocatable.cpuMillis() - requested.cpuMillis();
    roomMemory = allocatable.memoryBytes() - requested.memoryBytes();
    roomPods = allocatable.pods() - requested.pods();
  }

  long roomCpu() {
    return roomCpu;
  }

  long roomMemory() {
    return roomMemory;
  }

  long roomPods() {
    return roomPods;
  }

  /** A node as this one is now, to fill up without changing this one. */
  SimNode copy() {
    return new SimNode(name, labels, requirements, taints, allocatable, requested, hostPorts, inFlight);
  }

  /** This node with other requests (pods taken off, or nominated ones released). */
  public SimNode withRequested(Resources value) {
    return new SimNode(name, labels, requirements, taints, allocatable, value, hostPorts, inFlight);
  }

  /** A running node: its labels are facts. */
  public static SimNode node(String name, Map<String, String> labels, List<Taint> taints, Resources allocatable, Resources requested,
      Set<String> hostPorts) {
    return new SimNode(name, labels, Requirements.ofLabels(labels), taints, allocatable, requested, hostPorts, false);
  }

  public String name() {
    return name;
  }

  public Map<String, String> labels() {
    return labels;
  }

  public Requirements requirements() {
    return requirements;
  }

  public List<Taint> taints() {
    return taints;
  }

  public Resources allocatable() {
    return allocatable;
  }

  public Resources requested() {
    return requested;
  }

  public boolean inFlight() {
    return inFlight;
  }

  public String zone() {
    return labels.getOrDefault(WellKnownLabels.ZONE, "");
  }

  boolean portsFree(Set<String> ports) {
    for (String p : ports) {
      if (hostPorts.contains(p)) {
        return false;
      }
    }
    return true;
  }

  void add(SchedulingPod pod) {
    requested = requested.plus(pod.requests());
    hostPorts.addAll(pod.hostPorts());
    room();
  }

  /**
   * Whether the pod's requirements accept this node: for a running node every required key must be
   * satisfied by its labels (or absent where absence is allowed); for an in-flight claim the claim's
   * requirements must be compatible.
   */
  boolean accepts(Requirements pod) {
    if (inFlight) {
      return requirements.compatible(pod).isEmpty();
    }
    for (Requirement r : pod.all()) {
      String v = labels.get(r.key());
      if (v == null ? !r.allowsAbsence() : !r.allows(v)) {
        return false;
      }
    }
    return true;
  }
}
