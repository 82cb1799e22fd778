package dev.dovetail.extender;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.extender.decision.Outcome;
import org.junit.jupiter.api.Test;

/**
 * The start-up warm-up goes down the path kube-scheduler's calls take: governed pods under both strategies,
 * including the answer that rejects every node with a reason; a pod the extender ignores would warm little.
 */
class WarmUpTest {
  @Test
  void everyMadeUpCallIsGovernedAndSomeFindNoFittingNode() {
    int rounds = 70;
    WarmUp.Summary summary = WarmUp.requestPath(rounds);
    assertThat(summary.filter().keySet()).containsExactlyInAnyOrder(Outcome.GOVERNED, Outcome.NO_FITTING_NODE);
    assertThat(summary.filter().values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(rounds);
    assertThat(summary.prioritize()).containsOnlyKeys(Outcome.GOVERNED).containsEntry(Outcome.GOVERNED, rounds);
  }
}
