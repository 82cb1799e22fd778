package dev.dovetail.api.disruption;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DrainTest {
  private static final Instant STARTED = Instant.parse("2026-12-05T09:00:00Z");

  private static Pod annotated(String value) {
    PodBuilder b = new PodBuilder().withNewMetadata().withName("p").withNamespace("ns").withCreationTimestamp("2026-12-05T08:59:00Z")
        .endMetadata().withNewStatus().withStartTime(STARTED.toString()).endStatus();
    if (value != null) {
      b.editMetadata().addToAnnotations(Drain.DO_NOT_DISRUPT, value).endMetadata();
    }
    return b.build();
  }

  @Test
  void trueProtectsAlways() {
    assertThat(Drain.doNotDisrupt(annotated("true"), STARTED.plusSeconds(86_400 * 365))).isTrue();
  }

  @Test
  void aDurationProtectsForThatLongAfterThePodStarted() {
    Pod pod = annotated("30m");
    assertThat(Drain.doNotDisrupt(pod, STARTED.plusSeconds(29 * 60))).isTrue();
    assertThat(Drain.doNotDisrupt(pod, STARTED.plusSeconds(30 * 60))).isFalse();
    Pod notStarted = new PodBuilder(pod).withStatus(null).build();
    Instant created = STARTED.minusSeconds(60);
    assertThat(Drain.doNotDisrupt(notStarted, created.plusSeconds(29 * 60))).as("counts from creation before it starts").isTrue();
    assertThat(Drain.doNotDisrupt(notStarted, created.plusSeconds(30 * 60))).isFalse();
  }

  @Test
  void otherValuesAndNoAnnotationProtectNothing() {
    assertThat(Drain.doNotDisrupt(annotated(null), STARTED)).isFalse();
    assertThat(Drain.doNotDisrupt(annotated("false"), STARTED)).isFalse();
    assertThat(Drain.doNotDisrupt(annotated("soon"), STARTED)).isFalse();
    assertThat(Drain.doNotDisrupt(annotated("Never"), STARTED)).as("not a duration of protection").isFalse();
  }

  @Test
  void tiersPutWorkloadsFirstAndCriticalDaemonSetPodsLast() {
    Pod workload = new PodBuilder().withNewMetadata().withName("w").addNewOwnerReference().withKind("ReplicaSet").withName("rs")
        .withController(true).endOwnerReference().endMetadata().build();
    Pod daemon = new PodBuilder().withNewMetadata().withName("d").addNewOwnerReference().withKind("DaemonSet").withName("ds")
        .withController(true).endOwnerReference().endMetadata().build();
    Pod notControlled = new PodBuilder().withNewMetadata().withName("n").addNewOwnerReference().withKind("DaemonSet").withName("ds")
        .endOwnerReference().endMetadata().build();
    Pod criticalDaemon = new PodBuilder(daemon).withNewSpec().withPriorityClassName("system-node-critical").endSpec().build();
    Pod critical = new PodBuilder(workload).withNewSpec().withPriorityClassName("system-cluster-critical").endSpec().build();
    for (Pod p : List.of(workload, daemon, notControlled, criticalDaemon, critical)) {
      assertThat(Drain.tier(DrainPod.of(p))).as(p.getMetadata().getName()).isEqualTo(Drain.tier(p));
    }
    assertThat(List.of(workload, daemon, notControlled, critical, criticalDaemon)).extracting(Drain::tier).containsExactly(0, 1, 0, 2, 3);
  }

  @Test
  void mirrorFinishedAndDisruptionToleratingPodsAreNotWaitedFor() {
    Pod mirror = new PodBuilder().withNewMetadata().withName("m").addToAnnotations("kubernetes.io/config.mirror", "x").endMetadata().build();
    Pod done = new PodBuilder().withNewMetadata().withName("f").endMetadata().withNewStatus().withPhase("Failed").endStatus().build();
    Pod tolerant = new PodBuilder().withNewMetadata().withName("t").endMetadata().withNewSpec().addNewToleration()
        .withKey("karpenter.sh/disrupted").withOperator("Exists").endToleration().endSpec().build();
    Pod otherToleration = new PodBuilder().withNewMetadata().withName("o").endMetadata().withNewSpec().addNewToleration()
        .withKey("karpenter.sh/disrupted").withOperator("Exists").withEffect("NoExecute").endToleration().endSpec().build();
    Pod plain = new PodBuilder().withNewMetadata().withName("p").endMetadata().build();
    assertThat(List.of(mirror, done, tolerant, otherToleration, plain)).extracting(Drain::drainable)
        .containsExactly(false, false, false, true, true);
    assertThat(List.of(mirror, done, tolerant, otherToleration, plain)).extracting(p -> Drain.drainable(DrainPod.of(p)))
        .containsExactly(false, false, false, true, true);
  }

  @Test
  void thePlainViewKeepsWhatTheRulesRead() {
    Pod pod = new PodBuilder(annotated("30m")).editMetadata().withDeletionTimestamp("2026-12-05T10:00:00Z").endMetadata().build();
    DrainPod view = DrainPod.of(pod);
    assertThat(view).isEqualTo(new DrainPod("ns", "p", "2026-12-05T10:00:00Z", Map.of(Drain.DO_NOT_DISRUPT, "30m"), false, null, List.of(),
        null, STARTED.toString(), "2026-12-05T08:59:00Z", null));
    assertThat(view.grace()).isEqualTo(Duration.ofSeconds(30));
    assertThat(DrainPod.of(new PodBuilder(pod).editSpec().withTerminationGracePeriodSeconds(90L).endSpec().build()).grace())
        .isEqualTo(Duration.ofSeconds(90));
    assertThat(Drain.doNotDisrupt(view, STARTED.plusSeconds(29 * 60))).isTrue();
    assertThat(Drain.doNotDisrupt(view, STARTED.plusSeconds(30 * 60))).isFalse();
  }
}
