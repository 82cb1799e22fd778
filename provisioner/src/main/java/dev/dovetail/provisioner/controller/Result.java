package dev.dovetail.provisioner.controller;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** What to do after a successful reconcile: nothing, or come back after a delay. */
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

  /** The sooner of two results' requeues (a result without one yields to one with). */
  public Result sooner(Result other) {
    if (requeueAfter.isEmpty()) {
      return other;
    }
    if (other.requeueAfter.isEmpty()) {
      return this;
    }
    return requeueAfter.get().compareTo(other.requeueAfter.get()) <= 0 ? this : other;
  }
}
