package dev.dovetail.provisioner.provisioning;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PendingPodsTest {
  private static final Set<String> SCHEDULERS = Set.of("default-scheduler");

  private static PodBuilder unschedulable() {
    return new PodBuilder().withNewMetadata().withName("p").withNamespace("ns").withUid("u").endMetadata()
        .withNewSpec().endSpec()
        .withNewStatus().withPhase("Pending").addNewCondition().withType("PodScheduled").withStatus("False").withReason("Unschedulable")
        .endCondition().endStatus();
  }

  @Test
  void anUnschedulablePodOfOurSchedulerIsProvisionable() {
    assertThat(PendingPods.provisionable(unschedulable().build(), SCHEDULERS)).isTrue();
    assertThat(PendingPods.provisionable(unschedulable().editSpec().withSchedulerName("other").endSpec().build(), SCHEDULERS)).isFalse();
    assertThat(PendingPods.provisionable(unschedulable().editSpec().withNodeName("n").endSpec().build(), SCHEDULERS)).isFalse();
    assertThat(PendingPods.provisionable(new PodBuilder(unschedulable().build()).editStatus().withConditions().endStatus().build(), SCHEDULERS))
        .as("not tried by kube-scheduler yet").isFalse();
    assertThat(PendingPods.provisionable(unschedulable().editMetadata().addNewOwnerReference().withKind("DaemonSet").withName("ds")
        .withController(true).endOwnerReference().endMetadata().build(), SCHEDULERS)).isFalse();
  }

  @Test
  void aPodKubeSchedulerNominatedWhilePreemptingIsProvidedFor() {
    Pod preempting = unschedulable().editStatus().withNominatedNodeName("n1").endStatus().build();
    assertThat(PendingPods.provisionable(preempting, SCHEDULERS)).isFalse();
  }
}
