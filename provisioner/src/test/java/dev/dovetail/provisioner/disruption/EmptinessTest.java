package dev.dovetail.provisioner.disruption;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.common.Condition;
import dev.dovetail.api.disruption.Drain;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeClaimSpec;
import dev.dovetail.api.karpenter.v1.NodeClaimStatus;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which claims emptiness takes, and how many per pool its budget lets it. */
class EmptinessTest {
  private static final Instant NOW = Instant.parse("2026-12-06T12:00:00Z");

  /** A claim of {@code pool}, created at minute {@code minute}, Consolidatable or not, with its node and those pods. */
  private static Candidate candidate(String name, String pool, int minute, boolean consolidatable, Map<String, String> nodeAnnotations,
      Pod... pods) {
    NodeClaim claim = new NodeClaim();
    claim.setMetadata(new ObjectMetaBuilder().withName(name).withLabels(Map.of(WellKnownLabels.NODEPOOL, pool))
        .withCreationTimestamp(NOW.minusSeconds(3600 - 60L * minute).toString()).build());
    claim.setSpec(new NodeClaimSpec(null, null, List.of(), null, null, null, null));
    List<Condition> conditions = consolidatable
        ? List.of(new Condition(ConditionTypes.CONSOLIDATABLE, Condition.Status.True, 1L, NOW.toString(), "Consolidatable", ""))
        : List.of();
    claim.setStatus(new NodeClaimStatus("node-" + name, "sim://" + name, null, null, null, null, conditions));
    Node node = new NodeBuilder().withNewMetadata().withName("node-" + name).withAnnotations(nodeAnnotations).endMetadata().build();
    return new Candidate(claim, Optional.of(node), List.of(pods));
  }

  private static Candidate empty(String name, String pool, int minute) {
    return candidate(name, pool, minute, true, Map.of());
  }

  private static Pod pod(String ownerKind) {
    PodBuilder b = new PodBuilder().withNewMetadata().withName("p").withNamespace("ns").endMetadata().withNewStatus().withPhase("Running").endStatus();
    if (ownerKind != null) {
      b.editMetadata().addNewOwnerReference().withKind(ownerKind).withName("o").withController(true).endOwnerReference().endMetadata();
    }
    return b.build();
  }

  private final Set<String> nominated = new HashSet<>();
  private final Emptiness emptiness = new Emptiness(nominated::contains);

  @Test
  void onlyConsolidatableClaimsWithNothingToMoveAreEmpty() {
    assertThat(emptiness.shouldDisrupt(empty("a", "p", 0), NOW)).isTrue();
    assertThat(emptiness.shouldDisrupt(candidate("b", "p", 0, true, Map.of(), pod("DaemonSet")), NOW)).as("a DaemonSet pod moves nowhere")
        .isTrue();
    Pod finished = pod("ReplicaSet");
    finished.getStatus().setPhase("Succeeded");
    assertThat(emptiness.shouldDisrupt(candidate("c", "p", 0, true, Map.of(), finished), NOW)).as("a finished pod moves nowhere").isTrue();
    assertThat(emptiness.shouldDisrupt(candidate("d", "p", 0, true, Map.of(), pod("ReplicaSet")), NOW)).isFalse();
    assertThat(emptiness.shouldDisrupt(candidate("e", "p", 0, true, Map.of(), pod(null)), NOW)).as("a bare pod would be lost").isFalse();
    assertThat(emptiness.shouldDisrupt(candidate("f", "p", 0, false, Map.of()), NOW)).as("not Consolidatable (consolidateAfter)").isFalse();
  }

  @Test
  void doNotDisruptAndFreshNominationsProtectAnEmptyNode() {
    assertThat(emptiness.shouldDisrupt(candidate("a", "p", 0, true, Map.of(Drain.DO_NOT_DISRUPT, "true")), NOW)).isFalse();
    assertThat(emptiness.shouldDisrupt(candidate("b", "p", 0, true, Map.of(Drain.DO_NOT_DISRUPT, "false")), NOW)).isTrue();
    nominated.add("c");
    assertThat(emptiness.shouldDisrupt(empty("c", "p", 0), NOW)).as("pods are on their way to it").isFalse();
  }

  @Test
  void eachPoolGivesUpAsManyAsItsBudgetAllowsOldestFirst() {
    List<Candidate> all = List.of(empty("a3", "a", 3), empty("a1", "a", 1), empty("a2", "a", 2), empty("b1", "b", 1), empty("c1", "c", 1));
    Map<String, Map<Reason, Integer>> allowed = new HashMap<>();
    allowed.put("a", Map.of(Reason.EMPTY, 2));
    allowed.put("b", Map.of(Reason.EMPTY, 0));
    List<Command> commands = emptiness.computeCommands(new Budgets(allowed), all, NOW);
    assertThat(commands).singleElement().satisfies(c -> {
      assertThat(c.decision()).isEqualTo(Command.Decision.DELETE);
      assertThat(c.candidates()).as("a3 is the newest of pool a, whose budget is 2").extracting(Candidate::name)
          .containsExactlyInAnyOrder("a1", "a2", "c1");
    });
    assertThat(emptiness.computeCommands(new Budgets(Map.of("a", Map.of(Reason.EMPTY, 0))), List.of(empty("a1", "a", 1)), NOW)).isEmpty();
  }
}
