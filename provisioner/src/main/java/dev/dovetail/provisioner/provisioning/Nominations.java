package dev.dovetail.provisioner.provisioning;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which pending pods each new NodeClaim was planned for. When the claim's node is released to the
 * scheduler, those pods are nominated to it ({@code status.nominatedNodeName}): kube-scheduler tries a
 * pod's nominated node first and keeps room for it there while placing other pods, so the pods land as
 * planned instead of in arrival order, which would strand large pods and anti-affinity pods on full
 * nodes. Kept in memory, like Karpenter's nominations: after a restart, pods simply schedule unguided.
 *
 * <p>A nomination does not survive a failed scheduling attempt (kube-scheduler clears it when preemption
 * finds nothing), and pods are tried whenever a node changes. So every planned pod also gets the
 * {@code dovetail.dev/planned-nodes} hint, which the extender's prioritize ranks by and kube-scheduler
 * leaves alone: its own node; and pods that lost their nomination are nominated again when the node
 * initializes. Pods under topology spread get only the hint, naming every node of the launch group
 * planned for replicas of the same workload, with how many: kube-scheduler counts a node's other
 * nominees against the skew when it tries the nominated node, so co-nominated replicas would reject
 * each other, and the skew decides the order in which the zones can take replicas, so each replica
 * must be free to take any of the workload's planned places (replicas of one workload are
 * interchangeable).
 */
public final class Nominations {
  /**
   * A pod by name and uid (the uid guards against a new pod with the same name); {@code workload} is
   * its controller's uid (its own for a bare pod); {@code spread}: it is under topology spread.
   */
  public record PodRef(String namespace, String name, String uid, String workload, boolean spread) {
  }

  /** What a pod gets when its claim's node is released: the group's claims planned for its workload, with how many replicas each. */
  public record Guidance(PodRef pod, Map<String, Integer> plannedClaims) {
  }

  private record Group(Map<String, Map<String, Integer>> claimsByWorkload, Set<String> members, Set<String> unreleased) {
  }

  private final Map<String, List<PodRef>> byClaim = new HashMap<>();
  private final Map<String, List<PodRef>> released = new HashMap<>();
  private final Map<String, Long> podReleasedAt = new HashMap<>();
  private final Map<String, String> groupOf = new HashMap<>();
  private final Map<String, Group> groups = new HashMap<>();

  public synchronized void plan(String claim, String group, List<PodRef> pods) {
    byClaim.put(claim, List.copyOf(pods));
    groupOf.put(claim, group);
    Group g = groups.computeIfAbsent(group, k -> new Group(new HashMap<>(), new HashSet<>(), new HashSet<>()));
    g.members().add(claim);
    g.unreleased().add(claim);
    for (PodRef p : pods) {
      g.claimsByWorkload().computeIfAbsent(p.workload(), k -> new HashMap<>()).merge(claim, 1, Integer::sum);
    }
  }

  /**
   * The pods planned for a claim, removed from the plan (each claim is released once); a spread pod
   * comes with every claim of its launch group planned for its workload. Call {@link #nominated} when
   * they have been pointed at the node.
   */
  public synchronized List<Guidance> take(String claim) {
    List<PodRef> pods = byClaim.remove(claim);
    String group = groupOf.get(claim);
    Group g = group == null ? null : groups.get(group);
    if (pods == null) {
      return List.of();
    }
    released.put(claim, pods.stream().filter(p -> !p.spread()).toList());
    return pods.stream().map(p -> new Guidance(p, g == null || !p.spread() ? Map.of(claim, 1)
        : Map.copyOf(g.claimsByWorkload().getOrDefault(p.workload(), Map.of(claim, 1))))).toList();
  }

  /**
   * The claim's pods have been nominated (or hinted): its launch group waits for it no longer. Returns
   * the group's claims when this was the last one, so that all their nodes can be released at once.
   */
  public synchronized Set<String> nominated(String claim) {
    String group = groupOf.remove(claim);
    Group g = group == null ? null : groups.get(group);
    if (g == null) {
      return Set.of();
    }
    release(group, g, claim);
    return groups.containsKey(group) ? Set.of() : Set.copyOf(g.members());
  }

  /**
   * True once every claim of the launch group has had its pods nominated (or the group is unknown, as
   * after a restart). Nodes are untainted only then: a pod whose node is still tainted when
   * kube-scheduler tries it would otherwise be placed on another node of the group, in room planned for
   * a pod that holds no nomination there (a spread replica).
   */
  public synchronized boolean groupNominated(String group) {
    return group == null || !groups.containsKey(group);
  }

  /**
   * The nominated pods of a released claim, once (at its initialization): those a failed attempt
   * stripped of their nomination while the launch group was being released are nominated again.
   */
  public synchronized List<PodRef> takeReleased(String claim) {
    List<PodRef> pods = released.remove(claim);
    return pods == null ? List.of() : pods;
  }

  /** The pod (by uid) was pointed at a node just released to the scheduler. */
  public synchronized void podReleased(String uid, long nanoTime) {
    if (podReleasedAt.size() > 100_000) {
      podReleasedAt.clear();  // bounded: a lost entry only means one extra simulation of that pod
    }
    podReleasedAt.put(uid, nanoTime);
  }

  /**
   * True while the scheduler is still placing the pod on the node the provisioner released for it:
   * a pending pod then is in transit, not short of capacity, and provisioning for it again would launch
   * a node it never uses.
   */
  public synchronized boolean inTransit(String uid, long nanoTime, Duration grace) {
    Long at = podReleasedAt.get(uid);
    if (at == null) {
      return false;
    }
    if (nanoTime - at < grace.toNanos()) {
      return true;
    }
    podReleasedAt.remove(uid);
    return false;
  }

  public synchronized void forget(String claim) {
    byClaim.remove(claim);
    released.remove(claim);
    String group = groupOf.remove(claim);
    if (group != null) {
      release(group, groups.get(group), claim);
    }
  }

  private void release(String group, Group g, String claim) {
    if (g == null) {
      return;
    }
    g.unreleased().remove(claim);
    if (g.unreleased().isEmpty()) {
      groups.remove(group);
    }
  }

  public synchronized int size() {
    return byClaim.size();
  }
}
