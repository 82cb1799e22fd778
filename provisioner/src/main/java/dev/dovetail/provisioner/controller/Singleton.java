package dev.dovetail.provisioner.controller;

import dev.dovetail.runtime.Failures;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A controller without keys, as Karpenter's singleton controllers (the provisioner, disruption, garbage
 * collection): one reconcile at a time, on a thread of its own, run every {@code period} (each wait
 * stretched by up to {@code jitter} of it, so replicas and controllers do not beat in step), at once when
 * {@link #trigger triggered}, or when the last result asks to come back sooner. A failed reconcile comes
 * back with exponential backoff. It reconciles only while {@code leading} says this replica leads, and
 * reports controller-runtime's metrics under its name.
 */
public final class Singleton implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Singleton.class);

  /** One pass; must not throw (a failed stage is retried with backoff). */
  @FunctionalInterface
  public interface Reconciler {
    CompletionStage<Result> reconcile(Reconciliation context);
  }

  private final String name;
  private final Duration period;
  private final double jitter;
  private final Reconciler reconciler;
  private final BooleanSupplier leading;
  private final ScheduledThreadPoolExecutor thread;
  private final ReconcileMetrics reconciles;
  /** Guarded by {@code this}. */
  private boolean running;
  private boolean again;
  private ScheduledFuture<?> next;
  private long nextDueNanos;
  private int failures;
  private volatile boolean closed;

  /**
   * @param name    controller-runtime's controller name (metrics, logs, the thread's name)
   * @param period  how long after a pass the next one runs when nothing triggers it sooner
   * @param jitter  share of {@code period} (0 to 1) each wait may be stretched by, at random
   * @param leading whether this replica may act now; a pass while it may not is skipped
   */
  public Singleton(String name, Duration period, double jitter, Reconciler reconciler, BooleanSupplier leading, MeterRegistry registry) {
    if (period.isNegative() || period.isZero() || jitter < 0 || jitter > 1) {
      throw new IllegalArgumentException("period must be positive and jitter within 0..1 (" + period + ", " + jitter + ")");
    }
    this.name = name;
    this.period = period;
    this.jitter = jitter;
    this.reconciler = reconciler;
    this.leading = leading;
    this.thread = new ScheduledThreadPoolExecutor(1, Threads.daemon(name));
    thread.setRemoveOnCancelPolicy(true);
    this.reconciles = ReconcileMetrics.of(name, registry);
  }

  public String name() {
    return name;
  }

  /** Starts the schedule: the first pass after {@code initialDelay}, unless triggered sooner. */
  public Singleton start(Duration initialDelay) {
    runAfter(initialDelay);
    return this;
  }

  /** Runs a pass as soon as possible (after the one in progress, if any); many triggers make one pass. */
  public void trigger() {
    runAfter(Duration.ZERO);
  }

  /** Runs a pass after {@code delay}, unless one is due sooner already. */
  public synchronized void runAfter(Duration delay) {
    if (closed) {
      return;
    }
    if (running) {
      if (delay.isZero() || delay.isNegative()) {
        again = true;
      }
      return;
    }
    long due = System.nanoTime() + Math.max(0, delay.toNanos());
    if (next != null && !next.isDone()) {
      if (nextDueNanos - due <= 0) {
        return;
      }
      next.cancel(false);
    }
    nextDueNanos = due;
    next = thread.schedule(this::run, Math.max(0, delay.toNanos()), TimeUnit.NANOSECONDS);
  }

  private void run() {
    synchronized (this) {
      if (closed || running) {
        return;
      }
      running = true;
      again = false;
      next = null;
    }
    if (!leading.getAsBoolean()) {
      finished(Result.DONE, null, System.nanoTime(), false);
      return;
    }
    long start = System.nanoTime();
    Reconciliation context = Reconciliation.singleton(name);
    CompletionStage<Result> stage;
    try {
      stage = reconciler.reconcile(context);
    } catch (RuntimeException e) {
      stage = CompletableFuture.failedFuture(e);
    }
    stage.whenComplete((result, error) -> {
      if (error != null) {
        context.atWarn(LOG).log("pass failed: {}", Failures.cause(error).toString());
      }
      finished(result, error, start, true);
    });
  }

  private void finished(Result result, Throwable error, long startNanos, boolean ran) {
    if (ran) {
      reconciles.record(startNanos, error == null);
    }
    Duration wait;
    boolean now;
    synchronized (this) {
      running = false;
      failures = error == null ? 0 : failures + 1;
      now = again;
      wait = error != null ? Controller.backoff(failures) : result.requeueAfter().filter(d -> d.compareTo(period) < 0).orElseGet(this::jittered);
    }
    runAfter(now ? Duration.ZERO : wait);
  }

  private Duration jittered() {
    return jitter == 0 ? period : period.plusNanos((long) (period.toNanos() * jitter * ThreadLocalRandom.current().nextDouble()));
  }

  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      if (next != null) {
        next.cancel(false);
      }
    }
    thread.shutdownNow();
  }
}
