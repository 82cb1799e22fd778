package dev.dovetail.provisioner.testing;

import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeClaimSpec;
import dev.dovetail.api.karpenter.v1.NodeClassReference;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.ResourceRequirements;
import dev.dovetail.api.karpenter.v1.Taint;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * NodeClaims as a user (or another controller) writes them by hand: {@link #nodeClaim} makes one for a
 * small on-demand amd64 m5 instance (1 CPU, 1Gi) of the EC2NodeClass {@code default}, without the
 * termination finalizer, and applies the overrides in order (the last one to set a field wins).
 *
 * <pre>{@code NodeClaims.nodeClaim(c -> c.nodeClass(cls), c -> c.startupTaints(Taint.of("cni", null, NoSchedule)))}</pre>
 */
public final class NodeClaims {
  private NodeClaims() {
  }

  /** A claim under construction; every setter replaces what was there (maps: the one key). */
  public static final class Builder {
    private String name = Names.unique("claim");
    private final Map<String, String> labels = new LinkedHashMap<>(Map.of(Names.TEST_LABEL, "true"));
    private final Map<String, String> annotations = new LinkedHashMap<>();
    private String nodeClass = "default";
    private List<NodeSelectorRequirementWithMinValues> requirements = List.of(
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.ARCH, "amd64"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.ON_DEMAND),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_TYPE, "m5.large", "m5.xlarge"));
    private Map<String, Quantity> requests = Map.of("cpu", new Quantity("1"), "memory", new Quantity("1Gi"));
    private List<Taint> taints = List.of();
    private List<Taint> startupTaints = List.of();
    private String terminationGracePeriod;

    public Builder name(String value) {
      this.name = value;
      return this;
    }

    public Builder label(String key, String value) {
      labels.put(key, value);
      return this;
    }

    public Builder annotation(String key, String value) {
      annotations.put(key, value);
      return this;
    }

    /** The EC2NodeClass the claim launches with. */
    public Builder nodeClass(String value) {
      this.nodeClass = value;
      return this;
    }

    /** The NodePool the claim counts for (its {@code karpenter.sh/nodepool} label). */
    public Builder nodePool(String pool) {
      return label(WellKnownLabels.NODEPOOL, pool);
    }

    public Builder requirements(NodeSelectorRequirementWithMinValues... values) {
      this.requirements = List.of(values);
      return this;
    }

    public Builder requests(String cpu, String memory) {
      this.requests = Map.of("cpu", new Quantity(cpu), "memory", new Quantity(memory));
      return this;
    }

    public Builder taints(Taint... values) {
      this.taints = List.of(values);
      return this;
    }

    public Builder startupTaints(Taint... values) {
      this.startupTaints = List.of(values);
      return this;
    }

    public Builder terminationGracePeriod(String value) {
      this.terminationGracePeriod = value;
      return this;
    }

    public NodeClaim build() {
      NodeClaim claim = new NodeClaim();
      claim.setMetadata(new ObjectMetaBuilder().withName(name).withLabels(Map.copyOf(labels)).withAnnotations(Map.copyOf(annotations)).build());
      claim.setSpec(new NodeClaimSpec(taints.isEmpty() ? null : taints, startupTaints.isEmpty() ? null : startupTaints, requirements,
          new ResourceRequirements(requests), NodeClassReference.ec2NodeClass(nodeClass), terminationGracePeriod, null));
      return claim;
    }
  }

  @SafeVarargs
  public static NodeClaim nodeClaim(UnaryOperator<Builder>... overrides) {
    Builder b = new Builder();
    for (UnaryOperator<Builder> o : overrides) {
      b = o.apply(b);
    }
    return b.build();
  }
}
