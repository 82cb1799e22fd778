package dev.dovetail.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SingletonTest {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final AtomicInteger passes = new AtomicInteger();
  private final AtomicInteger inPass = new AtomicInteger();
  private final AtomicInteger overlaps = new AtomicInteger();

  /** A pass that stays open until {@code release} completes, counting passes and overlaps. */
  private Singleton.Reconciler held(CompletableFuture<Void>[] release) {
    return context -> {
      passes.incrementAndGet();
      if (inPass.incrementAndGet() > 1) {
        overlaps.incrementAndGet();
      }
      return release[0].thenApply(v -> {
        inPass.decrementAndGet();
        return Result.DONE;
      });
    };
  }

  @Test
  void triggersDuringAPassMakeExactlyOneMorePassAndPassesNeverOverlap() {
    @SuppressWarnings("unchecked")
    CompletableFuture<Void>[] release = new CompletableFuture[] {new CompletableFuture<Void>()};
    try (Singleton s = new Singleton("t", Duration.ofHours(1), 0, held(release), () -> true, registry).start(Duration.ofHours(1))) {
      s.trigger();
      await().atMost(Duration.ofSeconds(5)).until(() -> passes.get() == 1);
      for (int i = 0; i < 100; i++) {
        s.trigger();
      }
      CompletableFuture<Void> first = release[0];
      release[0] = CompletableFuture.completedFuture(null);
      first.complete(null);
      await().atMost(Duration.ofSeconds(5)).until(() -> passes.get() == 2 && inPass.get() == 0);
      // A marker pass, triggered after the coalesced one ended, shows nothing else was left queued.
      s.trigger();
      await().atMost(Duration.ofSeconds(5)).until(() -> passes.get() == 3 && inPass.get() == 0);
      assertThat(overlaps.get()).isZero();
    }
  }

  @Test
  void aResultAskingToComeBackSoonerThanThePeriodIsHonoured() {
    try (Singleton s = new Singleton("t", Duration.ofHours(1), 0, context -> Result.requeue(passes.incrementAndGet() < 3
        ? Duration.ofMillis(20) : Duration.ofDays(1)), () -> true, registry).start(Duration.ZERO)) {
      await().atMost(Duration.ofSeconds(5)).until(() -> passes.get() == 3);
    }
  }

  @Test
  void aFailedPassIsRetriedWithBackoffAndCounted() {
    try (Singleton s = new Singleton("t", Duration.ofHours(1), 0, context -> passes.incrementAndGet() <= 2
        ? CompletableFuture.failedFuture(new IllegalStateException("boom")) : Result.done(), () -> true, registry).start(Duration.ZERO)) {
      await().atMost(Duration.ofSeconds(5)).until(() -> passes.get() == 3);
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
        assertThat(registry.get("controller_runtime_reconcile").tag("controller", "t").tag("result", "error").counter().count()).isEqualTo(2);
        assertThat(registry.get("controller_runtime_reconcile").tag("controller", "t").tag("result", "success").counter().count()).isEqualTo(1);
      });
    }
  }

  @Test
  void whileNotLeadingNoPassRunsAndTheScheduleGoesOn() {
    AtomicBoolean leading = new AtomicBoolean();
    try (Singleton s = new Singleton("t", Duration.ofMillis(20), 0, context -> {
      passes.incrementAndGet();
      return Result.done();
    }, leading::get, registry).start(Duration.ZERO)) {
      for (int i = 0; i < 20; i++) {
        s.trigger();
      }
      assertThat(passes.get()).isZero();
      leading.set(true);
      await().atMost(Duration.ofSeconds(5)).until(() -> passes.get() >= 2);
    }
  }

  @Test
  void thePeriodAndJitterMustMakeSense() {
    assertThatThrownBy(() -> new Singleton("t", Duration.ZERO, 0, c -> Result.done(), () -> true, registry)).hasMessageContaining("period");
    assertThatThrownBy(() -> new Singleton("t", Duration.ofSeconds(1), 1.5, c -> Result.done(), () -> true, registry))
        .hasMessageContaining("jitter");
  }
}
