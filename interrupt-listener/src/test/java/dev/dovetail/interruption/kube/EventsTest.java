package dev.dovetail.interruption.kube;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dovetail.runtime.events.EventRecorder;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * The Event the agent posts: the shared recorder's Event (the one the other components write through
 * fabric8), about an object as the API server returned it, as JSON on the agent's own client.
 */
class EventsTest {
  @Test
  void aNodeEventGoesToDefaultWithItsSourceAndReference() throws Exception {
    JsonNode node = KubeApi.JSON.readTree("{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\",\"uid\":\"u-1\"}}");
    JsonNode e = Events.body(EventRecorder.event(Events.involved(node), "Warning", "SpotInterrupted", "the instance will terminate",
        "dovetail-interrupt-listener", "n1", Instant.parse("2026-01-01T10:00:00.123Z"), "abcdef012345"));
    assertThat(e.path("apiVersion").asText()).isEqualTo("v1");
    assertThat(e.path("kind").asText()).isEqualTo("Event");
    assertThat(e.path("metadata").path("name").asText()).isEqualTo("n1.abcdef012345");
    assertThat(e.path("metadata").path("namespace").asText()).isEqualTo("default");
    assertThat(e.path("involvedObject").toString()).isEqualTo("{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"n1\",\"uid\":\"u-1\"}");
    assertThat(e.path("type").asText()).isEqualTo("Warning");
    assertThat(e.path("reason").asText()).isEqualTo("SpotInterrupted");
    assertThat(e.path("message").asText()).isEqualTo("the instance will terminate");
    assertThat(e.path("firstTimestamp").asText()).isEqualTo("2026-01-01T10:00:00Z");
    assertThat(e.path("lastTimestamp").asText()).isEqualTo("2026-01-01T10:00:00Z");
    assertThat(e.path("count").isIntegralNumber()).isTrue();
    assertThat(e.path("count").asInt()).isEqualTo(1);
    assertThat(e.path("source").toString()).isEqualTo("{\"component\":\"dovetail-interrupt-listener\",\"host\":\"n1\"}");
    assertThat(e.path("reportingComponent").asText()).isEqualTo("dovetail-interrupt-listener");
    assertThat(e.path("reportingInstance").asText()).isEqualTo("n1");
  }

  @Test
  void aPodEventGoesToItsNamespaceAndLongMessagesAreCutToTheApiLimit() throws Exception {
    JsonNode pod = KubeApi.JSON.readTree("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\"}}");
    EventRecorder.Involved involved = Events.involved(pod);
    assertThat(involved).isEqualTo(new EventRecorder.Involved("v1", "Pod", "ns", "p", null));
    JsonNode e = Events.body(EventRecorder.event(involved, "Normal", "R", "x".repeat(2000), "c", "h", Instant.EPOCH, "s"));
    assertThat(e.path("metadata").path("namespace").asText()).isEqualTo("ns");
    assertThat(e.path("involvedObject").toString()).isEqualTo("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"name\":\"p\",\"namespace\":\"ns\"}");
    assertThat(e.path("message").asText()).hasSize(1024).endsWith("...");
  }
}
