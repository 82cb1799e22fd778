package dev.dovetail.runtime.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.dovetail.runtime.ManualClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.spi.ToolProvider;
import org.junit.jupiter.api.Test;

/** The recorder every component writes Events with: the Event, the dedupe window, the bounded queue. */
class EventRecorderTest {
  private static final EventRecorder.Involved NODE = new EventRecorder.Involved("v1", "Node", null, "n1", "u-1");
  private static final EventRecorder.Involved POD = new EventRecorder.Involved("v1", "Pod", "ns", "p", null);

  /** What a transport was asked to create: namespace and Event. */
  private record Sent(String namespace, Map<String, Object> event) {
    String reason() {
      return (String) event.get("reason");
    }
  }

  @Test
  void aNodeEventGoesToDefaultWithItsSourceAndReference() {
    Map<String, Object> e = EventRecorder.event(NODE, "Warning", "SpotInterrupted", "the instance will terminate", "dovetail-interrupt-listener",
        "n1", Instant.parse("2026-01-01T10:00:00.123Z"), "abcdef012345");
    assertThat(e).containsEntry("apiVersion", "v1").containsEntry("kind", "Event");
    assertThat(e.get("metadata")).isEqualTo(Map.of("name", "n1.abcdef012345", "namespace", "default"));
    assertThat(e.get("involvedObject")).isEqualTo(Map.of("apiVersion", "v1", "kind", "Node", "name", "n1", "uid", "u-1"));
    assertThat(e).containsEntry("type", "Warning").containsEntry("reason", "SpotInterrupted").containsEntry("message", "the instance will terminate");
    assertThat(e).containsEntry("firstTimestamp", "2026-01-01T10:00:00Z").containsEntry("lastTimestamp", "2026-01-01T10:00:00Z")
        .containsEntry("count", 1);
    assertThat(e.get("source")).isEqualTo(Map.of("component", "dovetail-interrupt-listener", "host", "n1"));
    assertThat(e).containsEntry("reportingComponent", "dovetail-interrupt-listener").containsEntry("reportingInstance", "n1");
    assertThat(e.keySet()).containsExactly("apiVersion", "kind", "metadata", "involvedObject", "type", "reason", "message", "firstTimestamp",
        "lastTimestamp", "count", "source", "reportingComponent", "reportingInstance");
  }

  @Test
  void longMessagesAreCutToTheApiLimitAndNamespacedObjectsKeepTheirNamespace() {
    Map<String, Object> e = EventRecorder.event(POD, "Normal", "R", "x".repeat(2000), "c", "h", Instant.EPOCH, "s");
    assertThat(e.get("metadata")).isEqualTo(Map.of("name", "p.s", "namespace", "ns"));
    assertThat(e.get("involvedObject")).isEqualTo(Map.of("apiVersion", "v1", "kind", "Pod", "name", "p", "namespace", "ns"));
    assertThat((String) e.get("message")).hasSize(1024).endsWith("...");
  }

  @Test
  void theSameEventForTheSameObjectIsWrittenOncePerWindow() {
    ManualClock clock = new ManualClock(Instant.parse("2026-01-01T10:00:00.123Z"));
    List<Sent> sent = new CopyOnWriteArrayList<>();
    try (EventRecorder events = new EventRecorder((ns, e) -> sent.add(new Sent(ns, e)), "c", clock, "h", new SimpleMeterRegistry(), 100)) {
      events.warning(NODE, "SpotInterrupted", "the instance will terminate");
      events.warning(NODE, "SpotInterrupted", "the instance will terminate");
      events.normal(NODE, "Drained", "all pods evicted");
      events.warning(NODE, "SpotInterrupted", "another message");
      events.warning(POD, "SpotInterrupted", "the instance will terminate");
      clock.advance(EventRecorder.DEDUPE_WINDOW.minusSeconds(1));
      events.warning(NODE, "SpotInterrupted", "the instance will terminate");
      events.normal(POD, "Marker", "last of the first window");
      // One writer, first in first out: once the marker is written, everything recorded before it has been.
      await().atMost(Duration.ofSeconds(10)).until(() -> sent.stream().anyMatch(s -> s.reason().equals("Marker")));
      assertThat(sent).extracting(Sent::reason).containsExactly("SpotInterrupted", "Drained", "SpotInterrupted", "SpotInterrupted", "Marker");
      assertThat(sent).extracting(Sent::namespace).containsExactly("default", "default", "default", "ns", "ns");

      clock.advance(Duration.ofSeconds(1));
      events.warning(NODE, "SpotInterrupted", "the instance will terminate");
      await().atMost(Duration.ofSeconds(10)).until(() -> sent.size() == 6);
      assertThat(sent.get(5).event()).containsEntry("message", "the instance will terminate");
      assertThat(sent.get(5).event().get("firstTimestamp")).isEqualTo("2026-01-01T10:02:00Z");
    }
  }

  @Test
  void eventsSharingARateLimitAreWrittenAtItsBurstThenAtItsRate() {
    ManualClock clock = new ManualClock(Instant.parse("2026-01-01T10:00:00Z"));
    List<Sent> sent = new CopyOnWriteArrayList<>();
    EventRecorder.RateLimit nominations = new EventRecorder.RateLimit(5, 10);
    try (EventRecorder events = new EventRecorder((ns, e) -> sent.add(new Sent(ns, e)), "c", clock, "h", new SimpleMeterRegistry(), 1000)) {
      for (int i = 0; i < 30; i++) {  // a burst of 30 pods nominated at once: the first 10 are written
        events.normal(pod("burst-" + i), "Nominated", "Pod should schedule on: nodeclaim/a", nominations);
      }
      clock.advance(Duration.ofMillis(1000));  // 5 tokens back
      for (int i = 0; i < 10; i++) {
        events.normal(pod("later-" + i), "Nominated", "Pod should schedule on: nodeclaim/b", nominations);
      }
      events.normal(POD, "Marker", "an event without the limit is not held back");
      await().atMost(Duration.ofSeconds(10)).until(() -> sent.stream().anyMatch(s -> s.reason().equals("Marker")));
      assertThat(sent).filteredOn(s -> s.reason().equals("Nominated")).extracting(s -> name(s.event()))
          .containsExactly("burst-0", "burst-1", "burst-2", "burst-3", "burst-4", "burst-5", "burst-6", "burst-7", "burst-8", "burst-9",
              "later-0", "later-1", "later-2", "later-3", "later-4");

      clock.advance(Duration.ofMinutes(1));  // refilled, but never past the burst
      for (int i = 0; i < 20; i++) {
        events.normal(pod("after-" + i), "Nominated", "Pod should schedule on: nodeclaim/c", nominations);
      }
      events.normal(POD, "Marker2", "m");
      await().atMost(Duration.ofSeconds(10)).until(() -> sent.stream().anyMatch(s -> s.reason().equals("Marker2")));
      assertThat(sent).filteredOn(s -> name(s.event()).startsWith("after-")).hasSize(10);
    }
    assertThat(catchThrowable(() -> new EventRecorder.RateLimit(0, 10))).hasMessageContaining("positive rate");
  }

  private static EventRecorder.Involved pod(String name) {
    return new EventRecorder.Involved("v1", "Pod", "ns", name, "uid-" + name);
  }

  @SuppressWarnings("unchecked")
  private static String name(Map<String, Object> event) {
    return (String) ((Map<String, Object>) event.get("involvedObject")).get("name");
  }

  @Test
  void whenTheQueueIsFullEventsAreDroppedAndCountedNotWaitedFor() throws Exception {
    CountDownLatch writing = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    List<String> sent = new CopyOnWriteArrayList<>();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (EventRecorder events = new EventRecorder((ns, e) -> {
      writing.countDown();
      assertThat(release.await(10, TimeUnit.SECONDS)).isTrue();
      sent.add((String) e.get("reason"));
    }, "c", Clock.systemUTC(), "h", registry, 1)) {
      events.normal(POD, "First", "m");
      assertThat(writing.await(10, TimeUnit.SECONDS)).as("the writer is busy with the first event").isTrue();
      events.normal(POD, "Second", "m");  // waits in the queue (capacity 1)
      events.normal(POD, "Third", "m");   // queue full: dropped at once
      assertThat(registry.get("dovetail_events_dropped").counter().count()).isEqualTo(1.0);
      release.countDown();
      await().atMost(Duration.ofSeconds(10)).until(() -> sent.size() == 2);
      assertThat(sent).containsExactly("First", "Second");
    }
  }

  @Test
  void aFailedWriteIsLostButTheWriterGoesOn() {
    List<String> sent = new CopyOnWriteArrayList<>();
    try (EventRecorder events = new EventRecorder((ns, e) -> {
      if (e.get("reason").equals("Refused")) {
        throw new IllegalStateException("403");
      }
      sent.add((String) e.get("reason"));
    }, "c", Clock.systemUTC(), "h", new SimpleMeterRegistry(), 10)) {
      events.warning(POD, "Refused", "m");
      events.normal(POD, "Written", "m");
      await().atMost(Duration.ofSeconds(10)).until(() -> sent.contains("Written"));
    }
  }

  /**
   * The interrupt listener uses this package without fabric8 or Vert.x on its code path: nothing here may
   * refer to them (jdeps over the compiled classes).
   */
  @Test
  void theRecorderRefersToNoApiClientOrServer() {
    Path classes = Paths.get("target", "classes", "dev", "dovetail", "runtime", "events");
    ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow();
    StringWriter out = new StringWriter();
    int status = jdeps.run(new PrintWriter(out), new PrintWriter(out), "-verbose:class", "-filter:none", classes.toString());
    assertThat(status).as(out.toString()).isZero();
    // Class-level lines read "   <class> -> <class it refers to>   <where>"; package summaries are not indented.
    List<String> referenced = out.toString().lines().filter(l -> l.startsWith(" ") && l.contains("->"))
        .map(l -> l.substring(l.indexOf("->") + 2).trim().split("\\s+")[0]).toList();
    assertThat(referenced).isNotEmpty().anySatisfy(c -> assertThat(c).startsWith("io.micrometer"));
    assertThat(referenced).allSatisfy(c -> assertThat(c).matches("(java\\.|org\\.slf4j\\.|io\\.micrometer\\.|dev\\.dovetail\\.runtime\\.events\\.).*"));
  }
}
