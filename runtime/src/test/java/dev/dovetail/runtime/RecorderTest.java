package dev.dovetail.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.runtime.events.EventRecorder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The provisioner's and extender's Events: fabric8 objects in, the shared recorder's Event out through fabric8. */
class RecorderTest {
  @Test
  void aFabric8ObjectIsReferencedByItsApiVersionKindNamespaceNameAndUid() {
    Pod pod = new PodBuilder().withNewMetadata().withName("web-0").withNamespace("shop").withUid("u-9").endMetadata().build();
    assertThat(Recorder.involved(pod)).isEqualTo(new EventRecorder.Involved("v1", "Pod", "shop", "web-0", "u-9"));
    Node node = new NodeBuilder().withNewMetadata().withName("n1").endMetadata().build();
    assertThat(Recorder.involved(node)).isEqualTo(new EventRecorder.Involved("v1", "Node", null, "n1", null));
  }

  @Test
  void theEventSentThroughFabric8HasEveryFieldOfTheSharedEvent() {
    Pod pod = new PodBuilder().withNewMetadata().withName("web-0").withNamespace("shop").withUid("u-9").endMetadata().build();
    Event e = KubeClientEvents.toEvent(new KubernetesSerialization(), EventRecorder.event(Recorder.involved(pod), "Warning",
        "FailedScheduling", "no NodePool", "dovetail-provisioner", "provisioner-0", Instant.parse("2026-01-01T10:00:00.5Z"), "0123456789ab"));
    assertThat(e.getApiVersion()).isEqualTo("v1");
    assertThat(e.getKind()).isEqualTo("Event");
    assertThat(e.getMetadata().getName()).isEqualTo("web-0.0123456789ab");
    assertThat(e.getMetadata().getNamespace()).isEqualTo("shop");
    assertThat(e.getInvolvedObject().getApiVersion()).isEqualTo("v1");
    assertThat(e.getInvolvedObject().getKind()).isEqualTo("Pod");
    assertThat(e.getInvolvedObject().getName()).isEqualTo("web-0");
    assertThat(e.getInvolvedObject().getNamespace()).isEqualTo("shop");
    assertThat(e.getInvolvedObject().getUid()).isEqualTo("u-9");
    assertThat(e.getType()).isEqualTo("Warning");
    assertThat(e.getReason()).isEqualTo("FailedScheduling");
    assertThat(e.getMessage()).isEqualTo("no NodePool");
    assertThat(e.getFirstTimestamp()).isEqualTo("2026-01-01T10:00:00Z");
    assertThat(e.getLastTimestamp()).isEqualTo("2026-01-01T10:00:00Z");
    assertThat(e.getCount()).isEqualTo(1);
    assertThat(e.getSource().getComponent()).isEqualTo("dovetail-provisioner");
    assertThat(e.getSource().getHost()).isEqualTo("provisioner-0");
    assertThat(e.getReportingComponent()).isEqualTo("dovetail-provisioner");
    assertThat(e.getReportingInstance()).isEqualTo("provisioner-0");
    assertThat(e.getAdditionalProperties()).isEmpty();
  }
}
