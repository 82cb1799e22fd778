package dev.dovetail.api.scheduling;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.scheduling.Unschedulable.Category;
import io.fabric8.kubernetes.api.model.TaintBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UnschedulableTest {
  private static final Resources REQUESTS = new Resources(Map.of("cpu", 64_000L));

  @Test
  void eachReasonSaysWhatPeopleReadInTheEventAndIsCountedUnderItsOwnCategory() {
    var taint = new Unschedulable.Untolerated("gpu", new TaintBuilder().withKey("nvidia.com/gpu").withValue("true").withEffect("NoSchedule").build());
    assertThat(taint.message()).isEqualTo("did not tolerate taint nvidia.com/gpu=true:NoSchedule of NodePool gpu");
    assertThat(taint.category()).isEqualTo(Category.TAINTS);
    assertThat(new Unschedulable.NodesLimit("general").message()).isEqualTo("NodePool general reached its nodes limit");
    assertThat(new Unschedulable.NodesLimit("general").category()).isEqualTo(Category.LIMITS);
    var tooBig = new Unschedulable.NoFittingType("general", false, REQUESTS, Resources.NONE, Requirements.NONE);
    assertThat(tooBig.message()).startsWith("NodePool general: no instance type has an available offering that fits requests {cpu=64000}");
    assertThat(tooBig.category()).isEqualTo(Category.RESOURCES);
    var limited = new Unschedulable.NoFittingType("general", true, REQUESTS, Resources.NONE, Requirements.NONE);
    assertThat(limited.message()).contains("no instance type within its limits has");
    assertThat(limited.category()).isEqualTo(Category.LIMITS);
    assertThat(new Unschedulable.MinValuesUnmet("general", "karpenter.k8s.aws/instance-family", 2, 5).message())
        .isEqualTo("NodePool general: minValues of karpenter.k8s.aws/instance-family not met: 2 of 5");
    assertThat(new Unschedulable.NoTopologyDomain("general").category()).isEqualTo(Category.TOPOLOGY);
    assertThat(new Unschedulable.NoNodePool(true).message()).isEqualTo("no NodePool is ready to launch nodes");
    assertThat(new Unschedulable.NoNodePool(false).category()).isEqualTo(Category.NO_NODEPOOL);
    assertThat(new Unschedulable.Unreadable("bad quantity").message()).isEqualTo("its scheduling constraints could not be read: bad quantity");
  }

  @Test
  void aReasonNamingSeveralPoolsReadsAsTheirReasonsJoinedAndCountsUnderTheFirstCategoryInOrder() {
    var rejected = new Unschedulable.Rejected(List.of(new Unschedulable.NoFittingType("a", false, REQUESTS, Resources.NONE, Requirements.NONE),
        new Unschedulable.NoTopologyDomain("b")));
    assertThat(rejected.message()).contains("NodePool a: no instance type").contains("; NodePool b: no topology domain");
    assertThat(rejected.category()).isEqualTo(Category.TOPOLOGY);
    assertThat(new Unschedulable.Rejected(List.of(new Unschedulable.NodesLimit("a"), rejected.pools().get(1))).category())
        .isEqualTo(Category.LIMITS);
  }
}
