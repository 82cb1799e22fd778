package dev.dovetail.provisioner.testing;

import dev.dovetail.api.karpenter.v1.Disruption;
import dev.dovetail.api.karpenter.v1.NodeClaimTemplate;
import dev.dovetail.api.karpenter.v1.NodeClaimTemplateSpec;
import dev.dovetail.api.karpenter.v1.NodeClassReference;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.NodePoolSpec;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.Taint;
import dev.dovetail.api.karpenter.v1.TemplateMetadata;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * NodePools: {@link #nodePool} makes one of on-demand amd64 m5 instances from the EC2NodeClass
 * {@code default}, without limits or weight, whose nodes carry {@link Names#TEST_LABEL}, and applies the
 * overrides in order (the last one to set a field wins).
 */
public final class NodePools {
  private NodePools() {
  }

  /** A pool under construction; every setter replaces what was there (maps: the one key). */
  public static final class Builder {
    private String name = Names.unique("pool");
    private final Map<String, String> templateLabels = new LinkedHashMap<>(Map.of(Names.TEST_LABEL, "true"));
    private String nodeClass = "default";
    private List<NodeSelectorRequirementWithMinValues> requirements = List.of(
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.ARCH, "amd64"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.ON_DEMAND),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_TYPE, "m5.large", "m5.xlarge"));
    private List<Taint> taints = List.of();
    private Map<String, Quantity> limits;
    private Integer weight;
    /** Emptiness only by default: tests about other things do not want their pods moved by consolidation. */
    private Disruption disruption = new Disruption("0s", Disruption.ConsolidationPolicy.WhenEmpty, null);
    private final Map<String, String> labels = new LinkedHashMap<>(Map.of(Names.TEST_LABEL, "true"));
    private String expireAfter;

    public Builder name(String value) {
      this.name = value;
      return this;
    }

    /** A label of the template: every NodeClaim and Node of the pool gets it. */
    public Builder templateLabel(String key, String value) {
      templateLabels.put(key, value);
      return this;
    }

    public Builder nodeClass(String value) {
      this.nodeClass = value;
      return this;
    }

    public Builder requirements(NodeSelectorRequirementWithMinValues... values) {
      this.requirements = List.of(values);
      return this;
    }

    public Builder taints(Taint... values) {
      this.taints = List.of(values);
      return this;
    }

    public Builder limits(Map<String, Quantity> values) {
      this.limits = Map.copyOf(values);
      return this;
    }

    public Builder weight(int value) {
      this.weight = value;
      return this;
    }

    public Builder disruption(Disruption value) {
      this.disruption = value;
      return this;
    }

    /** A label of the NodePool itself (not of its nodes). */
    public Builder label(String key, String value) {
      labels.put(key, value);
      return this;
    }

    public Builder expireAfter(String value) {
      this.expireAfter = value;
      return this;
    }

    public NodePool build() {
      NodePool pool = new NodePool();
      pool.setMetadata(new ObjectMetaBuilder().withName(name).withLabels(Map.copyOf(labels)).build());
      pool.setSpec(new NodePoolSpec(new NodeClaimTemplate(new TemplateMetadata(Map.copyOf(templateLabels), null),
          new NodeClaimTemplateSpec(taints.isEmpty() ? null : taints, null, requirements, NodeClassReference.ec2NodeClass(nodeClass), null, expireAfter)),
          disruption, limits, weight, null));
      return pool;
    }
  }

  @SafeVarargs
  public static NodePool nodePool(UnaryOperator<Builder>... overrides) {
    Builder b = new Builder();
    for (UnaryOperator<Builder> o : overrides) {
      b = o.apply(b);
    }
    return b.build();
  }
}
