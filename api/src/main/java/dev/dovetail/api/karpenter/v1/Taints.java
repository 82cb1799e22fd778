package dev.dovetail.api.karpenter.v1;

import io.fabric8.kubernetes.api.model.TaintBuilder;
import java.util.ArrayList;
import java.util.List;

/** Karpenter's taints (the CRD model's {@link Taint}) as Kubernetes node taints. */
public final class Taints {
  private Taints() {
  }

  /** The taints as a Node carries them; none for null. */
  // The two types share a name: the Kubernetes one is written out, here only.
  @SuppressWarnings("checkstyle:inlineFullyQualifiedName")
  public static List<io.fabric8.kubernetes.api.model.Taint> toKubernetes(List<Taint> taints) {
    List<io.fabric8.kubernetes.api.model.Taint> out = new ArrayList<>();
    if (taints != null) {
      for (Taint t : taints) {
        out.add(new TaintBuilder().withKey(t.key()).withValue(t.value()).withEffect(t.effect().name()).build());
      }
    }
    return out;
  }
}
