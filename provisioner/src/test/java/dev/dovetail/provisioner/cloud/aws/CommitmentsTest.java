package dev.dovetail.provisioner.cloud.aws;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.config.v1alpha1.ReservedInstance;
import dev.dovetail.provisioner.cloud.aws.CommitmentCoverage.Inventory;
import dev.dovetail.provisioner.cloud.aws.CommitmentCoverage.Running;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Taking room in a commitment from many threads at once: never more than it has. */
class CommitmentsTest {
  @Test
  void parallelTakesNeverExceedTheReservedInstanceCount() throws Exception {
    int threads = 16;
    int k = 3;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      for (int round = 0; round < 200; round++) {
        Commitments commitments = new Commitments(null, Optional.empty(), "us-east-1", () -> CompletableFuture.completedFuture(Map.of()),
            Clock.systemUTC());
        commitments.enabled(() -> true);
        commitments.load(new Inventory(List.of(new ReservedInstance("m5.large", null, k)), List.of()));
        commitments.refreshUsage().join();
        CyclicBarrier start = new CyclicBarrier(threads);
        AtomicInteger granted = new AtomicInteger();
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          done.add(pool.submit(() -> {
            start.await();
            Optional<Commitments.Grant> grant = commitments.take("m5.large", "us-east-1a", 0.096);
            grant.ifPresent(g -> granted.incrementAndGet());
            return null;
          }));
        }
        for (Future<?> f : done) {
          f.get(10, TimeUnit.SECONDS);
        }
        assertThat(granted.get()).as("grants in round %d", round).isEqualTo(k);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void noRoomIsGrantedUntilAListingOfTheInstancesInUseSucceeded() {
    Commitments commitments = new Commitments(null, Optional.empty(), "us-east-1",
        () -> CompletableFuture.failedFuture(new IllegalStateException("DescribeInstances failed")), Clock.systemUTC());
    commitments.enabled(() -> true);
    commitments.load(new Inventory(List.of(new ReservedInstance("m5.large", null, 1)), List.of()));
    commitments.refreshUsage().join();

    assertThat(commitments.offerings(Catalog.bundled())).isEmpty();
    assertThat(commitments.take("m5.large", "us-east-1a", 0.096)).isEmpty();
  }

  @Test
  void anOlderListingAnsweringLastNeverDropsAJustLaunchedInstance() {
    // Listings answer when the test says: each ask gets the next future.
    List<CompletableFuture<Map<String, Running>>> listings = new CopyOnWriteArrayList<>();
    Commitments commitments = new Commitments(null, Optional.empty(), "us-east-1", () -> {
      CompletableFuture<Map<String, Running>> f = new CompletableFuture<>();
      listings.add(f);
      return f;
    }, Clock.systemUTC());
    commitments.enabled(() -> true);
    commitments.load(new Inventory(List.of(new ReservedInstance("m5.large", null, 1)), List.of()));
    CompletableFuture<Void> first = commitments.refreshUsage();
    listings.get(0).complete(Map.of());
    first.join();

    // A listing starts (the 5-minute read, say) before a launch on the RI; another (the 1-minute timer) after it.
    CompletableFuture<Void> older = commitments.refreshUsage();
    Commitments.Grant grant = commitments.take("m5.large", "us-east-1a", 0.096).orElseThrow();
    commitments.settle(grant, Optional.of("i-new"));
    CompletableFuture<Void> newer = commitments.refreshUsage();
    // The newer one (showing the instance) answers first, if it was sent at all; then the older one, without it.
    if (listings.size() == 3) {
      listings.get(2).complete(Map.of("i-new", new Running("m5.large", "us-east-1a")));
    }
    listings.get(1).complete(Map.of());
    if (listings.size() == 3 && !listings.get(2).isDone()) {
      listings.get(2).complete(Map.of("i-new", new Running("m5.large", "us-east-1a")));
    }
    older.join();
    newer.join();

    assertThat(commitments.take("m5.large", "us-east-1b", 0.096)).as("the RI's one instance is running").isEmpty();
    assertThat(commitments.offerings(Catalog.bundled())).doesNotContainKey("m5.large");
  }
}
