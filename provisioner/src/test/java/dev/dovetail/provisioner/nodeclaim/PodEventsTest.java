package dev.dovetail.provisioner.nodeclaim;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class PodEventsTest {
  private static Pod pod(String node, String phase, boolean terminating) {
    return new PodBuilder().withNewMetadata().withName("p").withDeletionTimestamp(terminating ? "2026-12-05T08:00:00Z" : null).endMetadata()
        .withNewSpec().withNodeName(node).endSpec().withNewStatus().withPhase(phase).endStatus().build();
  }

  @Test
  void bindingAndLeavingAreEventsForTheNode() {
    assertThat(PodEvents.nodeOfEvent(null, pod("n1", "Pending", false))).as("a bound pod appears").contains("n1");
    assertThat(PodEvents.nodeOfEvent(pod(null, "Pending", false), pod("n1", "Pending", false))).as("bound").contains("n1");
    assertThat(PodEvents.nodeOfEvent(pod("n1", "Running", false), pod("n1", "Succeeded", false))).as("finished").contains("n1");
    assertThat(PodEvents.nodeOfEvent(pod("n1", "Running", false), pod("n1", "Failed", false))).as("failed").contains("n1");
    assertThat(PodEvents.nodeOfEvent(pod("n1", "Running", false), pod("n1", "Running", true))).as("terminating").contains("n1");
    assertThat(PodEvents.leftNode(pod("n1", "Running", false))).as("deleted").contains("n1");
  }

  @Test
  void otherChangesAndUnboundPodsAreNot() {
    assertThat(PodEvents.nodeOfEvent(null, pod(null, "Pending", false))).as("an unbound pod appears").isEmpty();
    assertThat(PodEvents.nodeOfEvent(pod(null, "Pending", false), pod(null, "Pending", false))).as("still pending").isEmpty();
    assertThat(PodEvents.nodeOfEvent(pod("n1", "Pending", false), pod("n1", "Running", false))).as("started running").isEmpty();
    assertThat(PodEvents.nodeOfEvent(pod("n1", "Succeeded", false), pod("n1", "Succeeded", false))).as("already finished").isEmpty();
    assertThat(PodEvents.nodeOfEvent(pod("n1", "Running", true), pod("n1", "Failed", true))).as("terminating, then failed").contains("n1");
    assertThat(PodEvents.leftNode(pod(null, "Pending", false))).as("an unbound pod deleted").isEmpty();
  }

  @Test
  void writesAreFiveSecondsApartFromTheLaterOfTheRecordedAndTheOwnLastWrite() {
    Instant now = Instant.parse("2026-12-05T08:00:10Z");
    assertThat(PodEvents.waitBeforeWriting(null, null, now)).as("never written").isEmpty();
    assertThat(PodEvents.waitBeforeWriting("2026-12-05T08:00:05Z", null, now)).as("five seconds ago").isEmpty();
    assertThat(PodEvents.waitBeforeWriting("2026-12-05T08:00:08Z", null, now)).contains(Duration.ofSeconds(3));
    assertThat(PodEvents.waitBeforeWriting("2026-12-05T08:00:01Z", now.minusSeconds(1), now))
        .as("the cache has not seen this replica's last write yet").contains(Duration.ofSeconds(4));
    assertThat(PodEvents.waitBeforeWriting("2026-12-05T08:00:09Z", now.minusSeconds(30), now)).as("another writer was later")
        .contains(Duration.ofSeconds(4));
    assertThat(PodEvents.waitBeforeWriting("not a time", null, now)).as("a malformed value is overwritten").isEmpty();
  }
}
