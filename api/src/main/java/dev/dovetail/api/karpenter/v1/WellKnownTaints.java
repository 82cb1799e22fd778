package dev.dovetail.api.karpenter.v1;

import java.util.Set;

/** Taint keys Karpenter and Kubernetes put on nodes, by their exact names. */
public final class WellKnownTaints {
  /** On a launched node until its NodeClaim has taken it over (Karpenter's registration). */
  public static final String UNREGISTERED = "karpenter.sh/unregistered";
  /** On a node being disrupted or terminated: nothing new should land there. */
  public static final String DISRUPTED = WellKnownLabels.DISRUPTED_TAINT;
  public static final String NOT_READY = "node.kubernetes.io/not-ready";
  public static final String UNREACHABLE = "node.kubernetes.io/unreachable";
  public static final String NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable";
  public static final String UNINITIALIZED = "node.cloudprovider.kubernetes.io/uninitialized";
  /** Taints every node has while it starts; they go away without anyone acting on the pods. */
  public static final Set<String> EPHEMERAL = Set.of(UNREGISTERED, NOT_READY, UNREACHABLE, NETWORK_UNAVAILABLE, UNINITIALIZED);

  private WellKnownTaints() {
  }

  public static boolean isEphemeral(String key) {
    return EPHEMERAL.contains(key);
  }
}
