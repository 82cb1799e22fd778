package dev.dovetail.provisioner.nodeclaim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.aws.v1.EC2NodeClassStatus;
import dev.dovetail.api.drift.Hashes;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeClaimSpec;
import dev.dovetail.api.karpenter.v1.NodeClaimStatus;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.testing.NodeClasses;
import dev.dovetail.provisioner.testing.NodePools;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Which changes to a claim's NodePool and EC2NodeClass make it Drifted, and with which reason. */
class DriftDetectionTest {
  private static final NodeSelectorRequirementWithMinValues TYPES = NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_TYPE,
      "m5.large", "m5.xlarge");

  private static NodePool pool(String teamLabel, NodeSelectorRequirementWithMinValues... requirements) {
    return NodePools.nodePool(p -> p.name("general"), p -> p.templateLabel("team", teamLabel), p -> p.requirements(requirements));
  }

  private static EC2NodeClass nodeClass(String tag, String... amis) {
    EC2NodeClass c = NodeClasses.nodeClass(b -> b.name("default"), b -> b.tag("owner", tag));
    c.setStatus(new EC2NodeClassStatus(null, null, List.of(amis).stream().map(id -> new EC2NodeClassStatus.Ami(id, id, null, List.of())).toList(),
        null, null, null));
    return c;
  }

  /** A claim made from this pool and class, running {@code image}. */
  private static NodeClaim claim(NodePool pool, EC2NodeClass nodeClass, String image) {
    NodeClaim c = new NodeClaim();
    c.setMetadata(new ObjectMetaBuilder().withName("general-abcde")
        .withLabels(Map.of(WellKnownLabels.NODEPOOL, "general", WellKnownLabels.INSTANCE_TYPE, "m5.large", "team", "a"))
        .withAnnotations(Map.of(Hashes.NODEPOOL_HASH, Hashes.nodePool(pool), Hashes.NODEPOOL_HASH_VERSION, Hashes.NODEPOOL_HASH_VERSION_VALUE,
            Hashes.NODECLASS_HASH, Hashes.nodeClass(nodeClass), Hashes.NODECLASS_HASH_VERSION, Hashes.NODECLASS_HASH_VERSION_VALUE))
        .build());
    c.setSpec(new NodeClaimSpec(null, null, List.of(), null, null, null, null));
    c.setStatus(new NodeClaimStatus("node", "sim://i-1", image, null, null, null, List.of()));
    return c;
  }

  private static Optional<DriftDetection.Reason> reason(NodeClaim claim, NodePool pool, EC2NodeClass nodeClass) {
    return DriftDetection.drifted(claim, Optional.of(pool), Optional.of(nodeClass)).map(DriftDetection.Drifted::reason);
  }

  @Test
  void aClaimAsItsPoolAndClassStillSayHasNotDrifted() {
    NodePool pool = pool("a", TYPES);
    EC2NodeClass nodeClass = nodeClass("x", "ami-1");
    assertThat(reason(claim(pool, nodeClass, "ami-1"), pool, nodeClass)).isEmpty();
    assertThat(DriftDetection.drifted(claim(pool, nodeClass, "ami-1"), Optional.empty(), Optional.of(nodeClass))).as("pool gone").isEmpty();
  }

  @Test
  void aChangedTemplateIsNodePoolDriftedUnlessTheHashIsOfAnotherVersion() {
    NodePool before = pool("a", TYPES);
    EC2NodeClass nodeClass = nodeClass("x", "ami-1");
    NodeClaim claim = claim(before, nodeClass, "ami-1");
    NodePool after = pool("b", TYPES);
    assertThat(reason(claim, after, nodeClass)).contains(DriftDetection.Reason.NodePoolDrifted);
    claim.getMetadata().getAnnotations().put(Hashes.NODEPOOL_HASH_VERSION, "v2");
    assertThat(reason(claim, after, nodeClass)).isEmpty();
  }

  @Test
  void requirementsThatNoLongerAllowTheClaimsLabelsAreRequirementsDrifted() {
    NodePool before = pool("a", TYPES);
    EC2NodeClass nodeClass = nodeClass("x", "ami-1");
    NodeClaim claim = claim(before, nodeClass, "ami-1");
    NodePool after = pool("a", NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_TYPE, "m5.xlarge"));
    assertThat(reason(claim, after, nodeClass)).as("requirements are not in the template hash").contains(DriftDetection.Reason.RequirementsDrifted);
    NodePool unrelated = pool("a", TYPES, NodeSelectorRequirementWithMinValues.in(WellKnownLabels.ZONE, "us-east-1a"));
    assertThat(reason(claim, unrelated, nodeClass)).as("a requirement on a label the claim does not carry").isEmpty();
  }

  @Test
  void aChangedNodeClassIsNodeClassDriftAndANewAmiIsAmiDrift() {
    NodePool pool = pool("a", TYPES);
    EC2NodeClass before = nodeClass("x", "ami-1");
    NodeClaim claim = claim(pool, before, "ami-1");
    assertThat(reason(claim, pool, nodeClass("y", "ami-1"))).contains(DriftDetection.Reason.NodeClassDrift);
    assertThat(reason(claim, pool, nodeClass("x", "ami-2", "ami-3"))).contains(DriftDetection.Reason.AMIDrift);
    assertThat(reason(claim, pool, nodeClass("x", "ami-2", "ami-1"))).isEmpty();
  }
}
