package dev.dovetail.interruption.imds;

import dev.dovetail.interruption.imds.Notices.Rebalance;
import dev.dovetail.interruption.imds.Notices.ScheduledEvent;
import dev.dovetail.interruption.imds.Notices.SpotInterruption;
import dev.dovetail.runtime.Failures;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * One look at everything the agent acts on: the spot interruption notice, the rebalance recommendation
 * and scheduled maintenance, read in parallel. A path that fails or answers garbage is reported in
 * {@code problems} and read as "no notice"; the observation still says whether IMDS answered at all.
 */
public final class NoticeReader {
  /** What IMDS said at {@code at}. {@code reachable}: at least one path answered. */
  public record Observation(Instant at, boolean reachable, Optional<SpotInterruption> spot, Optional<Rebalance> rebalance,
      List<ScheduledEvent> scheduled, List<String> problems) {
  }

  private final Imds imds;
  private final Clock clock;

  public NoticeReader(Imds imds, Clock clock) {
    this.imds = imds;
    this.clock = clock;
  }

  public CompletableFuture<Observation> observe() {
    List<String> problems = Collections.synchronizedList(new ArrayList<>());
    boolean[] answered = new boolean[3];
    CompletableFuture<Optional<SpotInterruption>> spot = read(Notices.SPOT_PATH, Notices::spot, problems, answered, 0);
    CompletableFuture<Optional<Rebalance>> rebalance = read(Notices.REBALANCE_PATH, Notices::rebalance, problems, answered, 1);
    CompletableFuture<Optional<List<ScheduledEvent>>> scheduled = read(Notices.SCHEDULED_PATH, Notices::scheduled, problems, answered, 2);
    return CompletableFuture.allOf(spot, rebalance, scheduled).thenApply(done -> {
      boolean reachable;
      synchronized (answered) {
        reachable = answered[0] || answered[1] || answered[2];
      }
      return new Observation(clock.instant(), reachable, spot.join(), rebalance.join(), scheduled.join().orElse(List.of()),
          List.copyOf(problems));
    });
  }

  private <T> CompletableFuture<Optional<T>> read(String path, Function<String, T> parse, List<String> problems, boolean[] answered, int slot) {
    return imds.metadata(path).handle((body, error) -> {
      if (error != null) {
        Throwable cause = Failures.cause(error);
        if (cause instanceof Imds.ImdsException e && e.status() != 0) {
          synchronized (answered) {
            answered[slot] = true;
          }
        }
        problems.add(cause.getMessage());
        return Optional.empty();
      }
      synchronized (answered) {
        answered[slot] = true;
      }
      if (body.isEmpty()) {
        return Optional.empty();
      }
      try {
        return Optional.of(parse.apply(body.get()));
      } catch (IllegalArgumentException e) {
        problems.add(e.getMessage());
        return Optional.empty();
      }
    });
  }
}
