package dev.dovetail.provisioner.testing;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Pods for tests: {@link #pod} makes a plain pause pod (100m CPU, 128Mi, the default scheduler, in
 * namespace {@code default}) and applies the overrides in order, so the last one to set a field wins.
 *
 * <pre>{@code Pods.pod(Pods.in(ns.name()), Pods.requests("500m", "1Gi"), Pods.annotation(Drain.DO_NOT_DISRUPT, "true"))}</pre>
 */
public final class Pods {
  private Pods() {
  }

  @SafeVarargs
  public static Pod pod(UnaryOperator<PodBuilder>... overrides) {
    PodBuilder b = new PodBuilder()
        .withNewMetadata().withName(Names.unique("pod")).withNamespace("default").addToLabels(Names.TEST_LABEL, "true").endMetadata()
        .withNewSpec()
        .addNewContainer().withName("app").withImage("registry.k8s.io/pause:3.10")
        .withNewResources().addToRequests("cpu", new Quantity("100m")).addToRequests("memory", new Quantity("128Mi")).endResources()
        .endContainer()
        .endSpec();
    for (UnaryOperator<PodBuilder> o : overrides) {
      b = o.apply(b);
    }
    return b.build();
  }

  public static UnaryOperator<PodBuilder> in(String namespace) {
    return b -> b.editMetadata().withNamespace(namespace).endMetadata();
  }

  public static UnaryOperator<PodBuilder> named(String name) {
    return b -> b.editMetadata().withName(name).endMetadata();
  }

  public static UnaryOperator<PodBuilder> label(String key, String value) {
    return b -> b.editMetadata().addToLabels(key, value).endMetadata();
  }

  public static UnaryOperator<PodBuilder> annotation(String key, String value) {
    return b -> b.editMetadata().addToAnnotations(key, value).endMetadata();
  }

  /** The container's requests, replacing the default ones. */
  public static UnaryOperator<PodBuilder> requests(String cpu, String memory) {
    return b -> b.editSpec().editFirstContainer().editResources()
        .withRequests(Map.of("cpu", new Quantity(cpu), "memory", new Quantity(memory))).endResources().endContainer().endSpec();
  }
}
