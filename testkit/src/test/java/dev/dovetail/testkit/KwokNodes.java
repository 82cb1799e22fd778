package dev.dovetail.testkit;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.Map;

/** Fake nodes for kwok to manage: it makes them Ready and runs the pods bound to them. */
final class KwokNodes {
  private KwokNodes() {
  }

  static Node node(String name, Map<String, String> labels) {
    return new NodeBuilder()
        .withNewMetadata().withName(name).withLabels(labels)
        .addToAnnotations("kwok.x-k8s.io/node", "fake").endMetadata()
        .withNewStatus()
        .addToCapacity("cpu", new Quantity("4")).addToCapacity("memory", new Quantity("16Gi")).addToCapacity("pods", new Quantity("110"))
        .addToAllocatable("cpu", new Quantity("4")).addToAllocatable("memory", new Quantity("16Gi")).addToAllocatable("pods", new Quantity("110"))
        .endStatus()
        .build();
  }
}
