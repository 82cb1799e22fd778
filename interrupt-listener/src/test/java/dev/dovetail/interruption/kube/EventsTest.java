package dev.dovetail.interruption.kube;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The Event the agent writes has the fields dev.dovetail.runtime.Recorder writes for the other components. */
class EventsTest {
  @Test
  void aNodeEventGoesToDefaultWithItsSourceAndReference() throws Exception {
    JsonNode node = KubeApi.JSON.readTree("{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\",\"uid\":\"u-1\"}}");
    JsonNode e = Events.event(Events.Involved.of(node), "Warning", "SpotInterrupted", "the instance will terminate", "dovetail-interrupt-listener",
        "n1", Instant.parse("2026-01-01T10:00:00.123Z"), "abcdef012345");
    assertThat(e.path("metadata").path("name").asText()).isEqualTo("n1.abcdef012345");
    assertThat(e.path("metadata").path("namespace").asText()).isEqualTo("default");
    assertThat(e.path("involvedObject").toString()).isEqualTo("{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"n1\",\"uid\":\"u-1\"}");
    assertThat(e.path("type").asText()).isEqualTo("Warning");
    assertThat(e.path("reason").asText()).isEqualTo("SpotInterrupted");
    assertThat(e.path("firstTimestamp").asText()).isEqualTo("2026-01-01T10:00:00Z");
    assertThat(e.path("lastTimestamp").asText()).isEqualTo("2026-01-01T10:00:00Z");
    assertThat(e.path("count").asInt()).isEqualTo(1);
    assertThat(e.path("source").toString()).isEqualTo("{\"component\":\"dovetail-interrupt-listener\",\"host\":\"n1\"}");
    assertThat(e.path("reportingComponent").asText()).isEqualTo("dovetail-interrupt-listener");
    assertThat(e.path("reportingInstance").asText()).isEqualTo("n1");
  }

  @Test
  void longMessagesAreCutToTheApiLimit() {
    JsonNode e = Events.event(new Events.Involved("v1", "Pod", "ns", "p", null), "Normal", "R", "x".repeat(2000), "c", "h", Instant.EPOCH, "s");
    assertThat(e.path("metadata").path("namespace").asText()).isEqualTo("ns");
    assertThat(e.path("message").asText()).hasSize(1024).endsWith("...");
  }
}
