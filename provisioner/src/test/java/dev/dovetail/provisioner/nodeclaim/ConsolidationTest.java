package dev.dovetail.provisioner.nodeclaim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.common.Condition;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.Disruption;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeClaimStatus;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.NodePoolSpec;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** When a claim becomes Consolidatable: consolidateAfter past its last pod event, or past its initialization before any. */
class ConsolidationTest {
  private static final Instant INITIALIZED = Instant.parse("2026-12-06T10:00:00Z");
  private static final Condition READY = new Condition(ConditionTypes.INITIALIZED, Condition.Status.True, 1L, INITIALIZED.toString(),
      "Initialized", "");

  private static NodeClaim claim(String lastPodEventTime) {
    NodeClaim c = new NodeClaim();
    c.setMetadata(new ObjectMetaBuilder().withName("c").build());
    c.setStatus(new NodeClaimStatus("n", "sim://n", null, null, null, lastPodEventTime, List.of(READY)));
    return c;
  }

  private static Optional<NodePool> pool(String consolidateAfter) {
    NodePool p = new NodePool();
    p.setMetadata(new ObjectMetaBuilder().withName("p").build());
    p.setSpec(new NodePoolSpec(null, consolidateAfter == null ? null
        : new Disruption(consolidateAfter, Disruption.ConsolidationPolicy.WhenEmpty, null), null, null, null));
    return Optional.of(p);
  }

  @Test
  void theClockStartsAtTheLastPodEventOrElseAtInitialization() {
    assertThat(Consolidation.due(claim(null), pool("5m"), READY)).contains(INITIALIZED.plusSeconds(300));
    assertThat(Consolidation.due(claim("2026-12-06T11:00:00Z"), pool("1h30m"), READY)).contains(Instant.parse("2026-12-06T12:30:00Z"));
    assertThat(Consolidation.due(claim(null), pool(null), READY)).as("a pool without disruption settings: 0s").contains(INITIALIZED);
  }

  @Test
  void neverAGonePoolOrAnUnreadableDurationMeansNotConsolidatable() {
    assertThat(Consolidation.due(claim(null), pool("Never"), READY)).isEmpty();
    assertThat(Consolidation.due(claim(null), Optional.empty(), READY)).isEmpty();
    assertThat(Consolidation.due(claim(null), pool("soon"), READY)).isEmpty();
  }
}
