package dev.dovetail.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;

class ControllerTest {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();

  private int runs(String key) {
    return runs.computeIfAbsent(key, k -> new AtomicInteger()).get();
  }

  @Test
  void aKeyQueuedManyTimesWhileWaitingIsReconciledOnce() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    try (Controller<String> c = new Controller<String>("t", "Test", (key, context) -> {
      runs.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
      if (key.equals("blocker")) {
        try {
          release.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return Result.done();
    }, 1, registry).start()) {
      c.enqueue("blocker");
      await().atMost(Duration.ofSeconds(5)).until(() -> runs("blocker") == 1);
      for (int i = 0; i < 5; i++) {
        c.enqueue("b");
      }
      assertThat(c.depth()).isEqualTo(1);
      release.countDown();
      await().atMost(Duration.ofSeconds(5)).until(() -> runs("b") == 1);
      Thread.sleep(200);
      assertThat(runs("b")).isEqualTo(1);
    }
  }

  @Test
  void aKeyChangedDuringItsReconcileIsReconciledAgainButNeverTwiceAtOnce() throws Exception {
    CountDownLatch inside = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger concurrent = new AtomicInteger();
    AtomicInteger mostConcurrent = new AtomicInteger();
    try (Controller<String> c = new Controller<String>("t", "Test", (key, context) -> {
      mostConcurrent.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
      int run = runs.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
      if (run == 1) {
        inside.countDown();
        try {
          release.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      concurrent.decrementAndGet();
      return Result.done();
    }, 4, registry).start()) {
      c.enqueue("a");
      assertThat(inside.await(5, TimeUnit.SECONDS)).isTrue();
      c.enqueue("a");
      c.enqueue("a");
      Thread.sleep(100);
      assertThat(runs("a")).as("not while the first run is in progress").isEqualTo(1);
      release.countDown();
      await().atMost(Duration.ofSeconds(5)).until(() -> runs("a") == 2);
      Thread.sleep(200);
      assertThat(runs("a")).isEqualTo(2);
      assertThat(mostConcurrent.get()).isEqualTo(1);
    }
  }

  @Test
  void failuresAreRetriedWithBackoffAndCounted() throws Exception {
    try (Controller<String> c = new Controller<String>("t", "Test", (key, context) -> {
      int run = runs.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
      return run <= 2 ? CompletableFuture.failedFuture(new IllegalStateException("boom " + run)) : Result.done();
    }, 2, registry).start()) {
      long t0 = System.nanoTime();
      c.enqueue("k");
      await().atMost(Duration.ofSeconds(5)).until(() -> runs("k") == 3);
      // Two backoffs: 100 ms, then 200 ms.
      assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(300));
      await().atMost(Duration.ofSeconds(2)).untilAsserted(() -> {
        assertThat(registry.get("controller_runtime_reconcile").tag("controller", "t").tag("result", "error").counter().count()).isEqualTo(2);
        assertThat(registry.get("controller_runtime_reconcile").tag("controller", "t").tag("result", "success").counter().count()).isEqualTo(1);
      });
    }
  }

  @Test
  void aResultCanAskToComeBackLater() throws Exception {
    try (Controller<String> c = new Controller<String>("t", "Test", (key, context) -> {
      int run = runs.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
      return run == 1 ? Result.requeue(Duration.ofMillis(50)) : Result.done();
    }, 1, registry).start()) {
      c.enqueue("k");
      await().atMost(Duration.ofSeconds(5)).until(() -> runs("k") == 2);
    }
  }

  @Test
  void aKeyKeepsOnlyItsEarliestTimer() throws Exception {
    try (Controller<String> c = new Controller<String>("t", "Test", (key, context) -> {
      runs.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
      return Result.done();
    }, 1, registry).start()) {
      for (int i = 0; i < 1_000; i++) {
        c.enqueueAfter("k", Duration.ofDays(30));
      }
      c.enqueueAfter("k", Duration.ofMillis(100));
      c.enqueueAfter("k", Duration.ofDays(1));
      assertThat(c.delayedKeys()).isEqualTo(1);
      await().atMost(Duration.ofSeconds(5)).until(() -> runs("k") == 1);
      // The month-long timers were dropped for the earlier one: none is left waiting.
      await().atMost(Duration.ofSeconds(1)).until(() -> c.delayedKeys() == 0);
    }
  }

  @Test
  void backoffDoublesFromATenthOfASecondUpToFiveMinutes() {
    assertThat(Controller.backoff(1)).isEqualTo(Duration.ofMillis(100));
    assertThat(Controller.backoff(2)).isEqualTo(Duration.ofMillis(200));
    assertThat(Controller.backoff(5)).isEqualTo(Duration.ofMillis(1600));
    assertThat(Controller.backoff(30)).isEqualTo(Duration.ofMinutes(5));
    assertThat(Controller.backoff(10_000)).isEqualTo(Duration.ofMinutes(5));
  }

  /**
   * Many threads enqueue a few keys as fast as they can while workers reconcile them: a key is never
   * reconciled by two workers at once, and every key is reconciled after its last enqueue.
   */
  @Test
  void underConcurrentEnqueuesAKeyIsNeverReconciledTwiceAtOnceAndNoEnqueueIsLost() throws Exception {
    int keys = 4;
    int threads = 6;
    int perThread = 30_000;
    AtomicLong clock = new AtomicLong();
    AtomicLongArray lastEnqueued = new AtomicLongArray(keys);
    AtomicLongArray lastStarted = new AtomicLongArray(keys);
    AtomicIntegerArray inFlight = new AtomicIntegerArray(keys);
    AtomicInteger overlaps = new AtomicInteger();
    try (Controller<Integer> c = new Controller<Integer>("stress", "Test", (key, context) -> {
      lastStarted.set(key, clock.incrementAndGet());
      if (inFlight.incrementAndGet(key) > 1) {
        overlaps.incrementAndGet();
      }
      for (int i = 0; i < 200; i++) {
        Thread.onSpinWait();
      }
      inFlight.decrementAndGet(key);
      return Result.done();
    }, 8, registry).start()) {
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int seed = t;
        done.add(pool.submit(() -> {
          for (int i = 0; i < perThread; i++) {
            int key = (i + seed) % keys;
            lastEnqueued.set(key, clock.incrementAndGet());
            c.enqueue(key);
          }
        }));
      }
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
      pool.shutdown();
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        for (int k = 0; k < keys; k++) {
          assertThat(lastStarted.get(k)).as("key %d reconciled after its last enqueue", k).isGreaterThan(lastEnqueued.get(k));
        }
      });
      assertThat(overlaps.get()).as("reconciles of one key that overlapped").isZero();
    }
  }
}
