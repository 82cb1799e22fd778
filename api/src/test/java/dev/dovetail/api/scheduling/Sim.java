package dev.dovetail.api.scheduling;

import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Taint;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

/** Builders for scheduling tests: catalog-backed pools and pods. */
final class Sim {
  static final List<InstanceOption> OPTIONS = InstanceOptions.from(Catalog.bundled(), Set.of("us-east-1a", "us-east-1b", "us-east-1c"),
      OptionalInt.empty(), (t, o) -> false);

  private Sim() {
  }

  static ClaimTemplate pool(String name, int weight, Requirements requirements, List<Taint> taints, Resources limits) {
    Requirements withPool = requirements.and(Requirement.in(WellKnownLabels.NODEPOOL, name));
    return new ClaimTemplate(name, weight, withPool, Map.of(WellKnownLabels.NODEPOOL, name), taints,
        Resources.of("cpu", "100m", "memory", "128Mi"), OPTIONS, limits);
  }

  static ClaimTemplate general() {
    return pool("general", 10, Requirements.of(Requirement.in(WellKnownLabels.INSTANCE_CATEGORY, "c", "m", "r"),
        Requirement.in(WellKnownLabels.ARCH, "amd64"), Requirement.in(WellKnownLabels.CAPACITY_TYPE, "spot", "on-demand"),
        Requirement.of(WellKnownLabels.INSTANCE_GENERATION, "Gt", List.of("4"))), List.of(), null);
  }

  static PodBuilder pod(String name, String cpu, String memory) {
    return new PodBuilder().withNewMetadata().withName(name).withNamespace("default").withUid("uid-" + name)
        .withCreationTimestamp("2026-11-23T10:00:00Z").addToLabels("app", name.replaceAll("-[0-9]+$", "")).endMetadata()
        .withNewSpec().addNewContainer().withName("c").withImage("i").withNewResources()
        .addToRequests("cpu", new Quantity(cpu)).addToRequests("memory", new Quantity(memory)).endResources().endContainer().endSpec();
  }

  static SchedulingPod of(Pod pod) {
    return SchedulingPod.of(pod, Requirements.NONE);
  }
}
