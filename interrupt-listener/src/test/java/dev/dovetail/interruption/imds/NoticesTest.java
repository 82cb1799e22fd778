package dev.dovetail.interruption.imds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class NoticesTest {
  @Test
  void aSpotInterruptionNoticeNamesTheActionAndTheTime() {
    Notices.SpotInterruption n = Notices.spot("{\"action\": \"terminate\", \"time\": \"2026-11-24T00:30:27Z\"}");
    assertThat(n.action()).isEqualTo("terminate");
    assertThat(n.time()).isEqualTo(Instant.parse("2026-11-24T00:30:27Z"));
  }

  @Test
  void aRebalanceRecommendationHasItsNoticeTime() {
    assertThat(Notices.rebalance("{\"noticeTime\":\"2026-11-24T00:28:27Z\"}").noticeTime()).isEqualTo(Instant.parse("2026-11-24T00:28:27Z"));
  }

  @Test
  void scheduledEventsUseAwssTimeFormat() {
    List<Notices.ScheduledEvent> events = Notices.scheduled("""
        [{"Code": "system-reboot", "Description": "The instance is scheduled for system-reboot", "State": "active",
          "EventId": "instance-event-1234567890abcdef0", "NotBefore": "24 Nov 2026 00:29:21 GMT",
          "NotAfter": "1 Dec 2026 00:29:21 GMT", "NotBeforeDeadline": "3 Dec 2026 00:29:21 GMT"},
         {"Code": "instance-stop", "State": "completed", "NotBefore": "2 Jan 2026 10:00:00 GMT"}]""");
    assertThat(events).hasSize(2);
    assertThat(events.get(0).code()).isEqualTo("system-reboot");
    assertThat(events.get(0).notBefore()).isEqualTo(Instant.parse("2026-11-24T00:29:21Z"));
    assertThat(events.get(0).notAfter()).contains(Instant.parse("2026-12-01T00:29:21Z"));
    assertThat(events.get(0).pending()).isTrue();
    assertThat(events.get(1).pending()).isFalse();
    assertThat(events.get(1).notAfter()).isEmpty();
  }

  @Test
  void garbageIsRefusedWithTheReasonNotACrash() {
    assertThatThrownBy(() -> Notices.spot("<html>500</html>")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("spot/instance-action is not JSON");
    assertThatThrownBy(() -> Notices.spot("[]")).hasMessageContaining("not a JSON object");
    assertThatThrownBy(() -> Notices.spot("{\"action\":\"terminate\"}")).hasMessageContaining("has no time");
    assertThatThrownBy(() -> Notices.spot("{\"action\":\"terminate\",\"time\":\"soon\"}")).hasMessageContaining("'soon' is not an RFC 3339 time");
    assertThatThrownBy(() -> Notices.scheduled("{}")).hasMessageContaining("not a JSON list");
    assertThatThrownBy(() -> Notices.scheduled("[{\"Code\":\"x\",\"NotBefore\":\"tomorrow\"}]")).hasMessageContaining("'tomorrow' is not a time");
  }
}
