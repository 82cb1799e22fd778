package dev.dovetail.provisioner.cloud;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeClaimSpec;
import dev.dovetail.api.karpenter.v1.NodeClassReference;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.ResourceRequirements;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.InstanceOption;
import dev.dovetail.api.scheduling.InstanceOptions;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LaunchPlanTest {
  private static final List<InstanceOption> OPTIONS = InstanceOptions.from(Catalog.bundled(), Set.of("us-east-1a", "us-east-1b", "us-east-1c"),
      OptionalInt.empty(), (type, offering) -> false);

  private static NodeClaim claim(String cpu, NodeSelectorRequirementWithMinValues... requirements) {
    NodeClaim c = new NodeClaim();
    c.setSpec(new NodeClaimSpec(null, null, List.of(requirements), new ResourceRequirements(Map.of("cpu", new Quantity(cpu))),
        NodeClassReference.ec2NodeClass("default"), null, null));
    return c;
  }

  @Test
  void spotComesBeforeOnDemandAndTheCheapestFirstWithinEach() {
    LaunchPlan plan = LaunchPlan.of(claim("1",
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_TYPE, "m5.large", "m5.xlarge", "c5.large", "c5.xlarge", "r5.large"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, "spot", "on-demand"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.ZONE, "us-east-1a", "us-east-1b")), OPTIONS);
    List<LaunchPlan.Candidate> candidates = plan.candidates();
    assertThat(candidates).isNotEmpty();
    assertThat(candidates).allSatisfy(c -> {
      assertThat(c.option().name()).isIn("m5.large", "m5.xlarge", "c5.large", "c5.xlarge", "r5.large");
      assertThat(c.offering().zone()).isIn("us-east-1a", "us-east-1b");
      assertThat(c.offering().available()).isTrue();
    });
    for (int i = 1; i < candidates.size(); i++) {
      LaunchPlan.Candidate before = candidates.get(i - 1);
      LaunchPlan.Candidate after = candidates.get(i);
      if (before.offering().capacityType() == after.offering().capacityType()) {
        assertThat(before.offering().pricePerHour()).isLessThanOrEqualTo(after.offering().pricePerHour());
      } else {
        assertThat(before.offering().capacityType()).isEqualTo(CapacityType.SPOT);
        assertThat(after.offering().capacityType()).isEqualTo(CapacityType.ON_DEMAND);
      }
    }
    assertThat(candidates.get(0).offering().capacityType()).isEqualTo(CapacityType.SPOT);
    assertThat(candidates.get(candidates.size() - 1).offering().capacityType()).isEqualTo(CapacityType.ON_DEMAND);
  }

  @Test
  void typesTooSmallForTheRequestsOrOutsideTheRequirementsAreLeftOut() {
    LaunchPlan plan = LaunchPlan.of(claim("3",
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_TYPE, "m5.large", "m5.xlarge"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, "on-demand")), OPTIONS);
    // m5.large has 2 vCPUs: 3 CPUs of requests only fit the m5.xlarge.
    assertThat(plan.candidates()).extracting(c -> c.option().name()).containsOnly("m5.xlarge");
    assertThat(plan.candidates()).extracting(c -> c.offering().capacityType()).containsOnly(CapacityType.ON_DEMAND);
    assertThat(plan.candidates()).extracting(c -> c.offering().zone()).containsExactly("us-east-1a", "us-east-1b", "us-east-1c");
  }
}
