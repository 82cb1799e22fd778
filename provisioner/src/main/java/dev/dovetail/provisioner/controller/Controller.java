package dev.dovetail.provisioner.controller;

import dev.dovetail.runtime.Failures;

import io.fabric8.kubernetes.client.KubernetesClientException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A reconcile loop with controller-runtime's guarantees: a key is never reconciled twice at once, a key
 * queued many times is reconciled once, a key changed while being reconciled is reconciled again
 * afterwards, and failures are retried with per-key exponential backoff. Reconcilers return a stage, so
 * a worker thread is not held while a cloud call is outstanding; {@code concurrency} bounds both the
 * worker threads and the keys in flight.
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
    CompletionStage<Result> reconcile(K key);
  }

  /** What to do after a successful reconcile. */
  public record Result(Optional<Duration> requeueAfter) {
    public static final Result DONE = new Result(Optional.empty());

    public static Result after(Duration delay) {
      return new Result(Optional.of(delay));
    }

    public static CompletionStage<Result> done() {
      return CompletableFuture.completedFuture(DONE);
    }

    public static CompletionStage<Result> requeue(Duration delay) {
      return CompletableFuture.completedFuture(after(delay));
    }
  }

  private final String name;
  private final Reconciler<K> reconciler;
  private final LinkedBlockingQueue<K> ready = new LinkedBlockingQueue<>();
  private final Set<K> queued = ConcurrentHashMap.newKeySet();
  private final Set<K> active = ConcurrentHashMap.newKeySet();
  private final Set<K> dirty = ConcurrentHashMap.newKeySet();
  private final Map<K, Integer> failures = new ConcurrentHashMap<>();
  private final Semaphore permits;
  private final ScheduledExecutorService timers;
  private final Map<K, Delayed> delayed = new ConcurrentHashMap<>();

  private record Delayed(long dueNanos, ScheduledFuture<?> timer) {
  }
  private final ExecutorService workers;
  private final Thread dispatcher;
  private final Counter succeeded;
  private final Counter failed;
  private final Timer duration;
  private volatile boolean closed;

  public Controller(String name, Reconciler<K> reconciler, int concurrency, MeterRegistry registry) {
    this.name = name;
    this.reconciler = reconciler;
    this.permits = new Semaphore(concurrency);
    ScheduledThreadPoolExecutor timerPool = new ScheduledThreadPoolExecutor(1, daemon(name + "-timer"));
    timerPool.setRemoveOnCancelPolicy(true);  // a replaced timer leaves the queue at once
    this.timers = timerPool;
    this.workers = Executors.newFixedThreadPool(concurrency, daemon(name + "-worker"));
    this.dispatcher = daemon(name + "-dispatch").newThread(this::dispatch);
    // controller-runtime's metric names, which Karpenter exposes too.
    this.succeeded = Counter.builder("controller_runtime_reconcile").tag("controller", name).tag("result", "success").register(registry);
    this.failed = Counter.builder("controller_runtime_reconcile").tag("controller", name).tag("result", "error").register(registry);
    this.duration = Timer.builder("controller_runtime_reconcile_time").tag("controller", name).register(registry);
    Gauge.builder("workqueue_depth", ready, LinkedBlockingQueue::size).tag("name", name).register(registry);
  }

  public Controller<K> start() {
    dispatcher.start();
    return this;
  }

  public String name() {
    return name;
  }

  /** Queues a key (no-op if it is already queued). */
  public void enqueue(K key) {
    if (closed || key == null) {
      return;
    }
    if (active.contains(key)) {
      dirty.add(key);
      // The reconcile may have finished between the check and the add: re-check so it is not lost.
      if (!active.contains(key) && dirty.remove(key)) {
        enqueue(key);
      }
      return;
    }
    if (queued.add(key)) {
      ready.add(key);
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
    return ready.size();
  }

  private void dispatch() {
    while (!closed) {
      K key;
      try {
        permits.acquire();
        key = ready.poll(1, TimeUnit.SECONDS);
        if (key == null) {
          permits.release();
          continue;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      queued.remove(key);
      active.add(key);
      K k = key;
      workers.execute(() -> {
        long start = System.nanoTime();
        CompletionStage<Result> stage;
        try {
          stage = reconciler.reconcile(k);
        } catch (RuntimeException e) {
          stage = CompletableFuture.failedFuture(e);
        }
        stage.whenComplete((result, error) -> finished(k, result, error, start));
      });
    }
  }

  private void finished(K key, Result result, Throwable error, long startNanos) {
    duration.record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
    active.remove(key);
    permits.release();
    if (error != null) {
      failed.increment();
      int n = failures.merge(key, 1, Integer::sum);
      Duration backoff = backoff(n);
      Throwable cause = Failures.cause(error);
      if (cause instanceof KubernetesClientException k && k.getCode() == 409) {
        // A write raced another writer or went out from a cache a little behind: routine, the retry reads anew.
        LOG.debug("{}: reconciling {} hit a conflict (attempt {}), retrying in {} ms", name, key, n, backoff.toMillis());
      } else {
        LOG.warn("{}: reconciling {} failed (attempt {}), retrying in {} ms: {}", name, key, n, backoff.toMillis(), cause.toString());
      }
      enqueueAfter(key, backoff);
    } else {
      succeeded.increment();
      failures.remove(key);
      result.requeueAfter().ifPresent(d -> enqueueAfter(key, d));
    }
    if (dirty.remove(key)) {
      enqueue(key);
    }
  }

  static Duration backoff(int attempt) {
    long millis = MIN_BACKOFF.toMillis() << Math.min(attempt - 1, 20);
    return millis >= MAX_BACKOFF.toMillis() || millis <= 0 ? MAX_BACKOFF : Duration.ofMillis(millis);
  }

  static ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, n.getAndIncrement() == 0 ? name : name + "-" + n.get());
      t.setDaemon(true);
      return t;
    };
  }

  @Override
  public void close() {
    closed = true;
    dispatcher.interrupt();
    timers.shutdownNow();
    workers.shutdownNow();
  }
}
