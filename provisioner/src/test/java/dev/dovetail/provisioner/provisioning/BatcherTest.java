package dev.dovetail.provisioner.provisioning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Real time with short windows; only lower bounds on elapsed time are asserted (a batch never closes early). */
class BatcherTest {
  @Test
  void nothingToWaitForReturnsZeroAfterTheTimeout() throws Exception {
    Batcher batcher = new Batcher(Duration.ofMillis(100), Duration.ofMillis(400));
    long t0 = System.nanoTime();
    assertThat(batcher.await(Duration.ofMillis(50))).isZero();
    assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(50));
    assertThat(batcher.open()).isFalse();
  }

  @Test
  void aBatchClosesOnceTriggersStopForTheIdleWindow() throws Exception {
    Batcher batcher = new Batcher(Duration.ofMillis(150), Duration.ofSeconds(10));
    long t0 = System.nanoTime();
    batcher.trigger();
    batcher.trigger();
    batcher.trigger();
    assertThat(batcher.open()).isTrue();
    assertThat(batcher.await(Duration.ofSeconds(5))).isEqualTo(3);
    long elapsed = System.nanoTime() - t0;
    assertThat(elapsed).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(150)).isLessThan(TimeUnit.SECONDS.toNanos(10));
    assertThat(batcher.open()).as("the next batch starts empty").isFalse();
  }

  @Test
  void aSteadyStreamOfTriggersIsCutAtTheMaxWindow() throws Exception {
    Batcher batcher = new Batcher(Duration.ofMillis(200), Duration.ofMillis(600));
    ScheduledExecutorService pods = Executors.newSingleThreadScheduledExecutor();
    try {
      batcher.trigger();
      long t0 = System.nanoTime();
      pods.scheduleAtFixedRate(batcher::trigger, 20, 20, TimeUnit.MILLISECONDS);  // never idle for 200 ms
      long gathered = batcher.await(Duration.ofSeconds(5));
      long elapsed = System.nanoTime() - t0;
      assertThat(gathered).isGreaterThan(1);
      assertThat(elapsed).as("closed by the max window, not by idleness").isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(550))
          .isLessThan(TimeUnit.SECONDS.toNanos(5));
    } finally {
      pods.shutdownNow();
    }
  }

  @Test
  void theWindowsMustMakeSense() {
    assertThatThrownBy(() -> new Batcher(Duration.ofSeconds(2), Duration.ofSeconds(1))).hasMessageContaining("max duration");
    assertThatThrownBy(() -> new Batcher(Duration.ofSeconds(-1), Duration.ofSeconds(1))).hasMessageContaining(">= 0");
  }
}
