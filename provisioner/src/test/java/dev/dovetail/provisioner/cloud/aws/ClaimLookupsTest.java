package dev.dovetail.provisioner.cloud.aws;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.scheduling.Resources;
import dev.dovetail.provisioner.cloud.Instance;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;

class ClaimLookupsTest {
  /** A describe call held open until the test answers it. */
  private record Call(List<String> claims, CompletableFuture<Map<String, Instance>> answer) {
  }

  private static Instance instance(String claim) {
    return new Instance("aws:///us-east-1a/i-" + claim, claim, "m5.large", "us-east-1a", CapacityType.ON_DEMAND, 0.1, Resources.NONE, Resources.NONE,
        "ami-0", Map.of(), Instant.EPOCH);
  }

  /** Lookups whose describe calls are held in {@code calls} until the test answers them. */
  private static ClaimLookups recording(List<Call> calls) {
    return new ClaimLookups(claims -> {
      Call c = new Call(claims, new CompletableFuture<>());
      calls.add(c);
      return c.answer();
    });
  }

  private static void answer(Call call, String... existing) {
    Map<String, Instance> found = new HashMap<>();
    for (String c : existing) {
      found.put(c, instance(c));
    }
    call.answer().complete(found);
  }

  @Test
  void lookupsGoAtOnceWhileSlotsAreFreeAndTogetherWhenNot() {
    List<Call> calls = new ArrayList<>();
    ClaimLookups lookups = recording(calls);
    List<CompletableFuture<Optional<Instance>>> results = new ArrayList<>();
    for (int i = 0; i < 454; i++) {
      results.add(lookups.of("claim-" + i));
    }
    // The first four went alone, at once; the other 450 wait for a slot.
    assertThat(calls).hasSize(ClaimLookups.MAX_IN_FLIGHT).allSatisfy(c -> assertThat(c.claims()).hasSize(1));

    answer(calls.get(0), "claim-0");
    assertThat(calls).hasSize(5);
    assertThat(calls.get(4).claims()).hasSize(ClaimLookups.MAX_VALUES).startsWith("claim-4");
    assertThat(results.get(0).join()).map(Instance::nodeClaim).contains("claim-0");

    answer(calls.get(1));
    answer(calls.get(2));
    answer(calls.get(3));
    assertThat(calls).hasSize(7);
    assertThat(calls.get(5).claims()).hasSize(200);
    assertThat(calls.get(6).claims()).hasSize(50).endsWith("claim-453");
    assertThat(results.get(1).join()).isEmpty();

    answer(calls.get(4), "claim-7");
    answer(calls.get(5));
    answer(calls.get(6));
    assertThat(calls).hasSize(7);
    assertThat(results).allMatch(CompletableFuture::isDone);
    assertThat(results.get(7).join()).map(Instance::nodeClaim).contains("claim-7");
    assertThat(results.get(8).join()).isEmpty();
  }

  @Test
  void aFailedCallFailsItsLookupsOnlyAndTheQueueMovesOn() {
    List<Call> calls = new ArrayList<>();
    ClaimLookups lookups = recording(calls);
    List<CompletableFuture<Optional<Instance>>> results = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      results.add(lookups.of("claim-" + i));
    }
    calls.get(0).answer().completeExceptionally(new IllegalStateException("RequestLimitExceeded"));
    assertThat(results.get(0)).isCompletedExceptionally();
    assertThat(calls).hasSize(5);
    assertThat(calls.get(4).claims()).containsExactly("claim-4", "claim-5");
    answer(calls.get(4), "claim-5");
    assertThat(results.get(5).join()).isPresent();
    assertThat(results.get(4).join()).isEmpty();
    assertThat(results.get(1)).isNotDone();

    // A describe function that throws instead of failing its future is a failed call too.
    ClaimLookups throwing = new ClaimLookups(claims -> {
      throw new IllegalArgumentException("bad filter");
    });
    CompletableFuture<Optional<Instance>> r = throwing.of("x");
    assertThat(r).isCompletedExceptionally();
    assertThat(Assertions.catchThrowable(r::join)).isInstanceOf(CompletionException.class);
  }
}
