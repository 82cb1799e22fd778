package dev.dovetail.provisioner.controller;

import dev.dovetail.runtime.Failures;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A reconcile loop with controller-runtime's guarantees: a key is never reconciled twice at once, a key
 * queued many times is reconciled once, a key changed while being reconciled is reconciled again
 * afterwards, and failures are retried with per-key exponential backoff. The queue keeps client-go's
 * workqueue rules under one lock: a key is <em>dirty</em> from its enqueue until a worker takes it, and
 * <em>processing</em> while a worker has it; a dirty key that is processing waits for the worker to finish
 * and is queued again then. Reconcilers return a stage, so a worker thread is not held while a cloud call
 * is outstanding; {@code concurrency} bounds both the worker threads and the keys in flight.
 *
 * @param <K> the key, usually an object name
 */
public final class Controller<K> implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Controller.class);
  private static final Duration MIN_BACKOFF = Duration.ofMillis(100);
  private static final Duration MAX_BACKOFF = Duration.ofMinutes(5);

  /** Reconciles one key; must not throw (a failed stage is retried with backoff). */
  @FunctionalInterface
  public interface Reconciler<K> {
    /** @param context the reconcile's identity, for its log lines (pass it on to what the reconcile calls) */
    CompletionStage<Result> reconcile(K key, Reconciliation context);
  }

  private final String name;
  private final String kind;
  private final Reconciler<K> reconciler;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition queuedKeys = lock.newCondition();
  /** Keys to take, in order; guarded by {@link #lock}. */
  private final ArrayDeque<K> ready = new ArrayDeque<>();
  /** Keys enqueued and not yet taken by a worker; guarded by {@link #lock}. */
  private final Set<K> dirty = new HashSet<>();
  /** Keys a worker has; guarded by {@link #lock}. */
  private final Set<K> processing = new HashSet<>();
  private final Map<K, Integer> failures = new ConcurrentHashMap<>();
  private final Semaphore permits;
  private final ScheduledExecutorService timers;
  private final Map<K, Delayed> delayed = new ConcurrentHashMap<>();

  private record Delayed(long dueNanos, ScheduledFuture<?> timer) {
  }

  private final ExecutorService workers;
  private final Thread dispatcher;
  private final ReconcileMetrics reconciles;
  private volatile boolean closed;

  /**
   * @param name controller-runtime's controller name, e.g. {@code nodeclaim.lifecycle} (metrics and logs)
   * @param kind the kind of object the keys name, e.g. {@code NodeClaim} (logs)
   */
  public Controller(String name, String kind, Reconciler<K> reconciler, int concurrency, MeterRegistry registry) {
    this.name = name;
    this.kind = kind;
    this.reconciler = reconciler;
    this.permits = new Semaphore(concurrency);
    ScheduledThreadPoolExecutor timerPool = new ScheduledThreadPoolExecutor(1, Threads.daemon(name + "-timer"));
    timerPool.setRemoveOnCancelPolicy(true);  // a replaced timer leaves the queue at once
    this.timers = timerPool;
    this.workers = Executors.newFixedThreadPool(concurrency, Threads.daemon(name + "-worker"));
    this.dispatcher = Threads.daemon(name + "-dispatch").newThread(this::dispatch);
    this.reconciles = ReconcileMetrics.of(name, registry);
    Gauge.builder("workqueue_depth", this, Controller::depth).description("Current depth of workqueue").tag("name", name).tag("controller", name)
        .tag("priority", "").register(registry);
  }

  public Controller<K> start() {
    dispatcher.start();
    return this;
  }

  public String name() {
    return name;
  }

  /** Queues a key: no-op if it is already queued; if a worker has it, it is queued again when the worker is done. */
  public void enqueue(K key) {
    if (closed || key == null) {
      return;
    }
    lock.lock();
    try {
      if (!dirty.add(key) || processing.contains(key)) {
        return;
      }
      ready.add(key);
      queuedKeys.signal();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Queues the key after a delay. A key holds one timer, the earliest asked for: a reconcile that asks to
   * come back in a month (a node's expiry) on every pod event must not pile up a month of timers.
   */
  public void enqueueAfter(K key, Duration delay) {
    if (closed) {
      return;
    }
    if (delay.isZero() || delay.isNegative()) {
      enqueue(key);
      return;
    }
    long due = System.nanoTime() + delay.toNanos();
    delayed.compute(key, (k, pending) -> {
      if (pending != null && pending.dueNanos() - due <= 0) {
        return pending;  // an earlier wake-up is set; the reconcile it brings asks again
      }
      if (pending != null) {
        pending.timer().cancel(false);
      }
      return new Delayed(due, timers.schedule(() -> wake(k, due), delay.toMillis(), TimeUnit.MILLISECONDS));
    });
  }

  private void wake(K key, long due) {
    delayed.computeIfPresent(key, (k, pending) -> pending.dueNanos() == due ? null : pending);
    enqueue(key);
  }

  /** Keys waiting for a timer (for tests). */
  int delayedKeys() {
    return delayed.size();
  }

  /** Keys queued and not yet started (for tests and metrics). */
  public int depth() {
    lock.lock();
    try {
      return ready.size();
    } finally {
      lock.unlock();
    }
  }

  private void dispatch() {
    while (!closed) {
      K key;
      try {
        permits.acquire();
        key = take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      if (key == null) {
        permits.release();
        continue;
      }
      K k = key;
      workers.execute(() -> {
        long start = System.nanoTime();
        Reconciliation context = Reconciliation.of(name, kind, String.valueOf(k));
        CompletionStage<Result> stage;
        try {
          stage = reconciler.reconcile(k, context);
        } catch (RuntimeException e) {
          stage = CompletableFuture.failedFuture(e);
        }
        stage.whenComplete((result, error) -> finished(k, context, result, error, start));
      });
    }
  }

  /** The next key, now processing and no longer dirty; null after a second without one. */
  private K take() throws InterruptedException {
    lock.lock();
    try {
      long left = TimeUnit.SECONDS.toNanos(1);
      while (ready.isEmpty()) {
        if (left <= 0 || closed) {
          return null;
        }
        left = queuedKeys.awaitNanos(left);
      }
      K key = ready.poll();
      processing.add(key);
      dirty.remove(key);
      return key;
    } finally {
      lock.unlock();
    }
  }

  private void finished(K key, Reconciliation context, Result result, Throwable error, long startNanos) {
    reconciles.record(startNanos, error == null);
    if (error != null) {
      int n = failures.merge(key, 1, Integer::sum);
      Duration backoff = backoff(n);
      Throwable cause = Failures.cause(error);
      if (cause instanceof KubernetesClientException k && k.getCode() == 409) {
        // A write raced another writer or went out from a cache a little behind: routine, the retry reads anew.
        context.atDebug(LOG).log("reconcile hit a conflict (attempt {}), retrying in {} ms", n, backoff.toMillis());
      } else {
        context.atWarn(LOG).log("reconcile failed (attempt {}), retrying in {} ms: {}", n, backoff.toMillis(), cause.toString());
      }
      enqueueAfter(key, backoff);
    } else {
      failures.remove(key);
      result.requeueAfter().ifPresent(d -> enqueueAfter(key, d));
    }
    lock.lock();
    try {
      processing.remove(key);
      if (dirty.contains(key)) {
        ready.add(key);
        queuedKeys.signal();
      }
    } finally {
      lock.unlock();
    }
    permits.release();
  }

  static Duration backoff(int attempt) {
    long millis = MIN_BACKOFF.toMillis() << Math.min(attempt - 1, 20);
    return millis >= MAX_BACKOFF.toMillis() || millis <= 0 ? MAX_BACKOFF : Duration.ofMillis(millis);
  }

  @Override
  public void close() {
    closed = true;
    dispatcher.interrupt();
    timers.shutdownNow();
    workers.shutdownNow();
  }
}
