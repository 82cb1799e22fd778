package dev.dovetail.provisioner.provisioning;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which pending pods each new NodeClaim was planned for. When the claim's node is released to the
 * scheduler, those pods are nominated to it ({@code status.nominatedNodeName}): kube-scheduler tries a
 * pod's nominated node first and keeps room for it there while placing other pods, so the pods land as
 * planned instead of in arrival order, which would strand large pods and anti-affinity pods on full
 * nodes. Kept in memory, like Karpenter's nominations: after a restart, pods simply schedule unguided.
 */
public final class Nominations {
  /** A pod by name and uid (the uid guards against a new pod with the same name). */
  public record PodRef(String namespace, String name, String uid) {
  }

  private final Map<String, List<PodRef>> byClaim = new ConcurrentHashMap<>();

  public void plan(String claim, List<PodRef> pods) {
    byClaim.put(claim, List.copyOf(pods));
  }

  /** The pods planned for a claim, removed from the plan (each claim is released once). */
  public List<PodRef> take(String claim) {
    List<PodRef> pods = byClaim.remove(claim);
    return pods == null ? List.of() : pods;
  }

  public void forget(String claim) {
    byClaim.remove(claim);
  }

  public int size() {
    return byClaim.size();
  }
}
