package dev.dovetail.provisioner.provisioning;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * Gathers triggers into batches, as Karpenter's batcher does: a batch opens with the first trigger and
 * closes once no trigger has come for {@code idle} (1 s by default) or it has been open for
 * {@code max} (10 s), so a burst of pending pods is simulated together rather than one by one. A trigger
 * with a key (a pod's UID) counts once per batch: the same pod updated again (kube-scheduler rewriting
 * why it cannot place it, as every new node changes the message) does not hold the window open, or a burst
 * would always run into the max window. Nothing blocks: a timer looks at the batch when it may close, and a closed batch is handed to
 * {@code onBatch} with the number of triggers it gathered.
 */
public final class Batcher {
  /** Runs a task after a delay (a scheduled executor; a manual clock in tests). */
  @FunctionalInterface
  public interface Timer {
    void schedule(Runnable task, long delayNanos);
  }

  private final Duration idle;
  private final Duration max;
  private final LongSupplier nanoTime;
  private final Timer timer;
  private final LongConsumer onBatch;
  /** Guarded by {@code this}. */
  private boolean open;
  private long firstNanos;
  private long lastNanos;
  private long triggers;
  private final Set<String> keys = new HashSet<>();

  public Batcher(Duration idle, Duration max, LongSupplier nanoTime, Timer timer, LongConsumer onBatch) {
    if (idle.isNegative() || max.compareTo(idle) < 0) {
      throw new IllegalArgumentException("batch idle duration must be >= 0 and <= the max duration (" + idle + ", " + max + ")");
    }
    this.idle = idle;
    this.max = max;
    this.nanoTime = nanoTime;
    this.timer = timer;
    this.onBatch = onBatch;
  }

  /** Something changed that may need new capacity. Never blocks. */
  public void trigger() {
    trigger(null);
  }

  /**
   * {@code key} (a pending pod's UID, say) may need new capacity: opens a batch or extends the open one,
   * unless the open batch has already counted this key. Never blocks.
   */
  public void trigger(String key) {
    synchronized (this) {
      if (key != null && open && !keys.add(key)) {
        return;
      }
      long now = nanoTime.getAsLong();
      lastNanos = now;
      triggers++;
      if (open) {
        return;
      }
      open = true;
      firstNanos = now;
      keys.clear();
      if (key != null) {
        keys.add(key);
      }
    }
    timer.schedule(this::check, idle.toNanos());
  }

  /** Closes the batch if its time has come, else looks again when it may close. */
  private void check() {
    long gathered;
    long wait;
    synchronized (this) {
      if (!open) {
        return;
      }
      long now = nanoTime.getAsLong();
      long closeAt = Math.min(lastNanos + idle.toNanos(), firstNanos + max.toNanos());
      wait = closeAt - now;
      if (wait <= 0) {
        open = false;
        gathered = triggers;
        triggers = 0;
        keys.clear();
      } else {
        gathered = 0;
      }
    }
    if (gathered > 0) {
      onBatch.accept(gathered);
    } else {
      timer.schedule(this::check, wait);
    }
  }

  /** Whether a batch is open (waiting to close). */
  public synchronized boolean open() {
    return open;
  }
}
