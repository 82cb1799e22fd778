package dev.dovetail.api.distribution;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeSelectorTerm;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * What the distribution needs to know about a pod, whoever read it: the extender streams it out of
 * kube-scheduler's request, the provisioner takes it from its pod informer.
 *
 * @param owner the controlling owner reference, if any
 * @param mirror a static pod's mirror (kubelet-managed)
 * @param capacityTypePinned the pod itself selects a capacity type (node selector or required affinity)
 */
public record PodFacts(String namespace, String name, String uid, Optional<Owner> owner, boolean mirror, boolean capacityTypePinned) {

  /** A controlling owner reference. */
  public record Owner(String kind, String name, String uid) {
  }

  public static final String MIRROR_ANNOTATION = "kubernetes.io/config.mirror";
  private static final List<String> CAPACITY_TYPE_KEYS = List.of(WellKnownLabels.CAPACITY_TYPE, CapacityType.EKS_CAPACITY_TYPE);

  public PodFacts {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
  }

  public static PodFacts of(Pod pod) {
    Optional<Owner> owner = pod.getMetadata().getOwnerReferences() == null ? Optional.empty()
        : pod.getMetadata().getOwnerReferences().stream().filter(r -> Boolean.TRUE.equals(r.getController())).findFirst()
            .map((OwnerReference r) -> new Owner(r.getKind(), r.getName(), r.getUid()));
    Map<String, String> annotations = pod.getMetadata().getAnnotations();
    boolean mirror = annotations != null && annotations.containsKey(MIRROR_ANNOTATION);
    return new PodFacts(pod.getMetadata().getNamespace(), pod.getMetadata().getName(), pod.getMetadata().getUid(), owner,
        mirror, pinsCapacityType(pod));
  }

  /** True when the pod's node selector or required node affinity names a capacity-type label. */
  public static boolean pinsCapacityType(Pod pod) {
    if (pod.getSpec() == null) {
      return false;
    }
    Map<String, String> selector = pod.getSpec().getNodeSelector();
    if (selector != null && CAPACITY_TYPE_KEYS.stream().anyMatch(selector::containsKey)) {
      return true;
    }
    if (pod.getSpec().getAffinity() == null || pod.getSpec().getAffinity().getNodeAffinity() == null
        || pod.getSpec().getAffinity().getNodeAffinity().getRequiredDuringSchedulingIgnoredDuringExecution() == null) {
      return false;
    }
    List<NodeSelectorTerm> terms = pod.getSpec().getAffinity().getNodeAffinity()
        .getRequiredDuringSchedulingIgnoredDuringExecution().getNodeSelectorTerms();
    return terms != null && terms.stream().anyMatch(t -> t.getMatchExpressions() != null
        && t.getMatchExpressions().stream().map(NodeSelectorRequirement::getKey).anyMatch(CAPACITY_TYPE_KEYS::contains));
  }

  public static boolean isCapacityTypeKey(String labelKey) {
    return CAPACITY_TYPE_KEYS.contains(labelKey);
  }

  /** The StatefulSet ordinal from the pod name ({@code <set>-<ordinal>}), when a StatefulSet owns the pod. */
  public OptionalInt statefulSetOrdinal() {
    if (owner.isEmpty() || !owner.get().kind().equals("StatefulSet")) {
      return OptionalInt.empty();
    }
    String prefix = owner.get().name() + "-";
    if (!name.startsWith(prefix)) {
      return OptionalInt.empty();
    }
    try {
      return OptionalInt.of(Integer.parseInt(name.substring(prefix.length())));
    } catch (NumberFormatException e) {
      return OptionalInt.empty();
    }
  }

  /**
   * Why the distribution does not govern this pod, or empty when it does: DaemonSet and mirror pods,
   * pods in system namespaces, and pods that choose their capacity type themselves (the user's choice wins).
   */
  public Optional<String> exemption(Set<String> systemNamespaces) {
    if (mirror) {
      return Optional.of("mirror pod");
    }
    if (owner.isPresent() && owner.get().kind().equals("DaemonSet")) {
      return Optional.of("DaemonSet pod");
    }
    if (systemNamespaces.contains(namespace)) {
      return Optional.of("namespace " + namespace + " is exempt");
    }
    if (capacityTypePinned) {
      return Optional.of("pod selects its capacity type itself");
    }
    return Optional.empty();
  }
}
