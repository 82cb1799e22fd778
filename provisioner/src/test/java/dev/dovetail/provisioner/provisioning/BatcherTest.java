package dev.dovetail.provisioner.provisioning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import org.junit.jupiter.api.Test;

/** On a manual clock: the batch closes exactly when its idle or max window says, never sooner. */
class BatcherTest {
  /** A clock and timer moved by hand. */
  private static final class ManualTime implements Batcher.Timer {
    private record Task(long dueNanos, long seq, Runnable run) {
    }

    private final PriorityQueue<Task> tasks = new PriorityQueue<>((a, b) -> a.dueNanos != b.dueNanos ? Long.compare(a.dueNanos, b.dueNanos)
        : Long.compare(a.seq, b.seq));
    private long now;
    private long seq;

    long now() {
      return now;
    }

    @Override
    public void schedule(Runnable task, long delayNanos) {
      tasks.add(new Task(now + delayNanos, seq++, task));
    }

    /** Moves the clock forward, running what falls due on the way. */
    void advance(Duration d) {
      long until = now + d.toNanos();
      while (!tasks.isEmpty() && tasks.peek().dueNanos() <= until) {
        Task t = tasks.poll();
        now = t.dueNanos();
        t.run().run();
      }
      now = until;
    }
  }

  private final ManualTime time = new ManualTime();
  private final List<Long> batches = new ArrayList<>();
  private final List<Long> closedAt = new ArrayList<>();

  private Batcher batcher(Duration idle, Duration max) {
    return new Batcher(idle, max, time::now, time, n -> {
      batches.add(n);
      closedAt.add(time.now());
    });
  }

  @Test
  void withoutTriggersNoBatchCloses() {
    Batcher b = batcher(Duration.ofMillis(100), Duration.ofMillis(400));
    time.advance(Duration.ofSeconds(10));
    assertThat(batches).isEmpty();
    assertThat(b.open()).isFalse();
  }

  @Test
  void aBatchClosesOnceTriggersStopForTheIdleWindow() {
    Batcher b = batcher(Duration.ofMillis(150), Duration.ofSeconds(10));
    b.trigger();
    time.advance(Duration.ofMillis(100));
    b.trigger();
    b.trigger();
    assertThat(b.open()).isTrue();
    time.advance(Duration.ofMillis(149));
    assertThat(batches).as("149 ms after the last trigger").isEmpty();
    time.advance(Duration.ofMillis(1));
    assertThat(batches).containsExactly(3L);
    assertThat(closedAt).containsExactly(Duration.ofMillis(250).toNanos());
    assertThat(b.open()).as("the next batch starts empty").isFalse();
  }

  @Test
  void aSteadyStreamOfTriggersIsCutAtTheMaxWindow() {
    Batcher b = batcher(Duration.ofMillis(200), Duration.ofMillis(600));
    for (int i = 0; i < 50; i++) {  // every 20 ms for a second: never idle for 200 ms
      b.trigger();
      time.advance(Duration.ofMillis(20));
    }
    assertThat(closedAt.get(0)).as("closed by the max window").isEqualTo(Duration.ofMillis(600).toNanos());
    assertThat(batches.get(0)).isEqualTo(30);
    time.advance(Duration.ofSeconds(1));
    assertThat(batches.stream().mapToLong(Long::longValue).sum()).as("every trigger lands in a batch").isEqualTo(50);
  }

  @Test
  void aKeyExtendsTheWindowOnlyTheFirstTimeInABatch() {
    Batcher b = batcher(Duration.ofMillis(200), Duration.ofSeconds(10));
    b.trigger("pod-a");
    time.advance(Duration.ofMillis(100));
    b.trigger("pod-a");  // pod-a updated again: the same pod, so the window is not extended
    time.advance(Duration.ofMillis(100));
    assertThat(closedAt).as("closed 200 ms after pod-a first came").containsExactly(Duration.ofMillis(200).toNanos());
    assertThat(batches).containsExactly(1L);
    time.advance(Duration.ofSeconds(1));
    b.trigger("pod-a");
    time.advance(Duration.ofMillis(200));
    assertThat(batches).as("pod-a again after its batch closed opens the next one").containsExactly(1L, 1L);

    b.trigger("pod-b");
    time.advance(Duration.ofMillis(150));
    b.trigger("pod-c");  // a new pod extends the window
    time.advance(Duration.ofMillis(150));
    b.trigger();  // so does a keyless trigger, every time
    time.advance(Duration.ofMillis(199));
    assertThat(batches).hasSize(2);
    time.advance(Duration.ofMillis(1));
    assertThat(batches).containsExactly(1L, 1L, 3L);
  }

  @Test
  void theWindowsMustMakeSense() {
    assertThatThrownBy(() -> batcher(Duration.ofSeconds(2), Duration.ofSeconds(1))).hasMessageContaining("max duration");
    assertThatThrownBy(() -> batcher(Duration.ofSeconds(-1), Duration.ofSeconds(1))).hasMessageContaining(">= 0");
  }
}
