package dev.dovetail.provisioner.cloud.aws;

import dev.dovetail.provisioner.cloud.Instance;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Looks instances up by their NodeClaim tag, many claims to one DescribeInstances (a filter takes up
 * to 200 values), as Karpenter batches its describe calls. Batching is group commit, not a timer: a
 * lookup goes out at once while fewer than {@value #MAX_IN_FLIGHT} calls are in flight, and lookups
 * arriving meanwhile wait for the next free slot and go together. Idle, a lookup costs no extra
 * latency; in a burst of a thousand launches, a handful of calls replace a thousand.
 */
final class ClaimLookups {
  static final int MAX_VALUES = 200;
  static final int MAX_IN_FLIGHT = 4;

  private record Pending(String claim, CompletableFuture<Optional<Instance>> result) {
  }

  /** Claim names → their live instances by claim name. */
  private final Function<List<String>, CompletableFuture<Map<String, Instance>>> describe;
  private final Deque<Pending> queue = new ArrayDeque<>();
  private int inFlight;

  ClaimLookups(Function<List<String>, CompletableFuture<Map<String, Instance>>> describe) {
    this.describe = describe;
  }

  CompletableFuture<Optional<Instance>> of(String claim) {
    Pending p = new Pending(claim, new CompletableFuture<>());
    synchronized (this) {
      queue.add(p);
    }
    send();
    return p.result();
  }

  private void send() {
    List<Pending> batch = new ArrayList<>();
    synchronized (this) {
      if (inFlight >= MAX_IN_FLIGHT || queue.isEmpty()) {
        return;
      }
      while (!queue.isEmpty() && batch.size() < MAX_VALUES) {
        batch.add(queue.poll());
      }
      inFlight++;
    }
    CompletableFuture<Map<String, Instance>> call;
    try {
      call = describe.apply(batch.stream().map(Pending::claim).distinct().toList());
    } catch (RuntimeException e) {
      call = CompletableFuture.failedFuture(e);
    }
    call.whenComplete((found, error) -> {
      synchronized (this) {
        inFlight--;
      }
      for (Pending p : batch) {
        if (error != null) {
          p.result().completeExceptionally(error);
        } else {
          p.result().complete(Optional.ofNullable(found.get(p.claim())));
        }
      }
      send();
    });
  }
}
