package dev.dovetail.provisioner.provisioning;

import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * Gathers triggers into batches, as Karpenter's batcher does: a batch opens with the first trigger and
 * closes once no trigger has come for {@code idle} (1 s by default) or it has been open for
 * {@code max} (10 s), so a burst of pending pods is simulated together rather than one by one.
 */
public final class Batcher {
  private final Duration idle;
  private final Duration max;
  private final LongSupplier nanoTime;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private boolean pending;
  private long firstNanos;
  private long lastNanos;
  private long triggers;

  public Batcher(Duration idle, Duration max, LongSupplier nanoTime) {
    if (idle.isNegative() || max.compareTo(idle) < 0) {
      throw new IllegalArgumentException("batch idle duration must be >= 0 and <= the max duration (" + idle + ", " + max + ")");
    }
    this.idle = idle;
    this.max = max;
    this.nanoTime = nanoTime;
  }

  public Batcher(Duration idle, Duration max) {
    this(idle, max, System::nanoTime);
  }

  /** Something changed that may need new capacity. Never blocks. */
  public void trigger() {
    lock.lock();
    try {
      long now = nanoTime.getAsLong();
      if (!pending) {
        pending = true;
        firstNanos = now;
      }
      lastNanos = now;
      triggers++;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Waits for a batch to open and then to close; returns how many triggers it gathered. Waits at most
   * {@code timeout} for the first trigger and returns 0 if none came.
   */
  public long await(Duration timeout) throws InterruptedException {
    lock.lock();
    try {
      long deadline = nanoTime.getAsLong() + timeout.toNanos();
      while (!pending) {
        long left = deadline - nanoTime.getAsLong();
        if (left <= 0) {
          return 0;
        }
        changed.awaitNanos(left);
      }
      while (true) {
        long now = nanoTime.getAsLong();
        long closeAt = Math.min(lastNanos + idle.toNanos(), firstNanos + max.toNanos());
        if (now >= closeAt) {
          break;
        }
        changed.awaitNanos(closeAt - now);
      }
      long n = triggers;
      pending = false;
      triggers = 0;
      return n;
    } finally {
      lock.unlock();
    }
  }

  /** Whether a batch is open (waiting to close). */
  public boolean open() {
    lock.lock();
    try {
      return pending;
    } finally {
      lock.unlock();
    }
  }
}
