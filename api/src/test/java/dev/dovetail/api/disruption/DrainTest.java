package dev.dovetail.api.disruption;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.time.Instant;
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
}
