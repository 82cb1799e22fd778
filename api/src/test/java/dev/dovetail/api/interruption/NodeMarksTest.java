package dev.dovetail.api.interruption;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.disruption.DrainPod;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The marks of an interruption, as plain values: the taint patch, the NodeClaim annotation and how it is read back. */
class NodeMarksTest {
  private static final Map<String, Object> UNREACHABLE =
      Map.of("key", "node.kubernetes.io/unreachable", "effect", "NoExecute", "timeAdded", "2026-01-01T00:00:00Z");

  private static Map<String, Object> noSchedule(String key, String value) {
    return Map.of("key", key, "value", value, "effect", "NoSchedule");
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> taints(Map<String, Object> patch) {
    return (List<Map<String, Object>>) ((Map<String, Object>) patch.get("spec")).get("taints");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> spec(Map<String, Object> patch) {
    return (Map<String, Object>) patch.get("spec");
  }

  @Test
  void addsTheMissingTaintsAndCordonsGuardedByTheResourceVersionKeepingWhatIsThere() {
    NodeMarks.NodeState node = new NodeMarks.NodeState(List.of(UNREACHABLE), false, "42");
    Map<String, Object> patch = NodeMarks.taintPatch(node, NodeMarks.spotInterruptionTaints("terminate"), true).orElseThrow();
    assertThat(patch.get("metadata")).isEqualTo(Map.of("resourceVersion", "42"));
    assertThat(spec(patch)).containsEntry("unschedulable", true);
    // A merge patch replaces the list whole: the taints already there go back unchanged (timeAdded included), first;
    // the new ones follow by key.
    assertThat(taints(patch)).containsExactly(UNREACHABLE, noSchedule(DovetailLabels.SPOT_INTERRUPTION_TAINT, "terminate"),
        noSchedule(WellKnownLabels.DISRUPTED_TAINT, ""));
  }

  @Test
  void nothingToSendWhenTaintedAndCordonedAlready() {
    NodeMarks.NodeState node = new NodeMarks.NodeState(List.of(noSchedule(DovetailLabels.REBALANCE_TAINT, "x")), true, "7");
    assertThat(NodeMarks.taintPatch(node, Map.of(DovetailLabels.REBALANCE_TAINT, "true"), true)).isEmpty();
    assertThat(NodeMarks.taintPatch(node, Map.of(DovetailLabels.REBALANCE_TAINT, "true"), false)).isEmpty();
  }

  @Test
  void aTaintWithAnotherEffectDoesNotCountAndATaintOnlyPatchLeavesSchedulingAlone() {
    Map<String, Object> prefer = Map.of("key", DovetailLabels.REBALANCE_TAINT, "effect", "PreferNoSchedule");
    NodeMarks.NodeState node = new NodeMarks.NodeState(List.of(prefer), false, "7");
    Map<String, Object> patch = NodeMarks.taintPatch(node, Map.of(DovetailLabels.REBALANCE_TAINT, "true"), false).orElseThrow();
    assertThat(taints(patch)).containsExactly(prefer, noSchedule(DovetailLabels.REBALANCE_TAINT, "true"));
    assertThat(spec(patch)).doesNotContainKey("unschedulable");
  }

  @Test
  void cordonsAloneWhenTheTaintsAreThere() {
    NodeMarks.NodeState node = new NodeMarks.NodeState(List.of(noSchedule(DovetailLabels.REBALANCE_TAINT, "true")), false, "7");
    Map<String, Object> patch = NodeMarks.taintPatch(node, Map.of(DovetailLabels.REBALANCE_TAINT, "true"), true).orElseThrow();
    assertThat(spec(patch)).containsEntry("unschedulable", true);
    assertThat(taints(patch)).containsExactly(noSchedule(DovetailLabels.REBALANCE_TAINT, "true"));
  }

  @Test
  void aNodeWithoutTaintsOrVersion() {
    Map<String, Object> patch = NodeMarks.taintPatch(new NodeMarks.NodeState(null, false, "1"), Map.of("k", "v"), false).orElseThrow();
    assertThat(taints(patch)).containsExactly(noSchedule("k", "v"));
    assertThatThrownBy(() -> new NodeMarks.NodeState(List.of(), false, null)).hasMessageContaining("resourceVersion");
  }

  @Test
  void theAnnotationPatchTouchesOneKey() {
    assertThat(NodeMarks.annotationPatch("spot-interruption@2026-01-01T00:00:00Z"))
        .isEqualTo(Map.of("metadata", Map.of("annotations", Map.of("dovetail.dev/interruption", "spot-interruption@2026-01-01T00:00:00Z"))));
  }

  @Test
  void aSpotInterruptionIsNeverReplacedByAMilderNotice() {
    String spot = NodeMarks.notice(NodeMarks.SPOT_INTERRUPTION, Instant.parse("2026-01-01T00:02:00Z"));
    String rebalance = NodeMarks.notice(NodeMarks.REBALANCE_RECOMMENDATION, Instant.parse("2026-01-01T00:03:00Z"));
    assertThat(spot).isEqualTo("spot-interruption@2026-01-01T00:02:00Z");
    assertThat(NodeMarks.alreadyMarked(null, spot)).isFalse();
    assertThat(NodeMarks.alreadyMarked(spot, spot)).isTrue();
    assertThat(NodeMarks.alreadyMarked(spot, rebalance)).isTrue();
    assertThat(NodeMarks.alreadyMarked(rebalance, spot)).isFalse();
    assertThat(NodeMarks.alreadyMarked(spot, NodeMarks.notice(NodeMarks.SPOT_INTERRUPTION, Instant.parse("2026-01-01T00:01:00Z")))).isFalse();
  }

  @Test
  void theReclaimTimeIsReadFromASpotInterruptionOnly() {
    assertThat(NodeMarks.interruptionTime("spot-interruption@2026-01-01T00:02:00Z")).contains(Instant.parse("2026-01-01T00:02:00Z"));
    assertThat(NodeMarks.interruptionTime("rebalance-recommendation@2026-01-01T00:02:00Z")).isEmpty();
    assertThat(NodeMarks.interruptionTime("spot-interruption@soon")).isEmpty();
    assertThat(NodeMarks.interruptionTime(null)).isEmpty();
  }

  private static DrainPod pod(Long graceSeconds) {
    return new DrainPod("ns", "p", null, Map.of(), false, null, List.of(), "Running", null, null, graceSeconds);
  }

  @Test
  void evictionsStartLeadBeforeTheDeadlineOrEarlierWhenAPodNeedsLongerToStop() {
    Instant deadline = Instant.parse("2026-01-01T00:01:45Z");
    Duration lead = Duration.ofSeconds(45);
    // Default grace 30 s + 10 s slack is less than the lead.
    assertThat(NodeMarks.evictionsStartBy(deadline, lead, List.of(pod(null), pod(5L)))).isEqualTo(deadline.minusSeconds(45));
    // A pod that takes 90 s to stop is asked 100 s ahead.
    assertThat(NodeMarks.evictionsStartBy(deadline, lead, List.of(pod(null), pod(90L)))).isEqualTo(deadline.minusSeconds(100));
    // With no pods, the lead alone.
    assertThat(NodeMarks.evictionsStartBy(deadline, lead, List.of())).isEqualTo(deadline.minusSeconds(45));
  }

  @Test
  void aDrainHoldsItsEvictionsUntilTheReplacementIsReadyOrTheLatestStartAndNeverWithoutALead() {
    Instant deadline = Instant.parse("2026-01-01T00:01:45Z");
    Duration lead = Duration.ofSeconds(45);
    List<DrainPod> pods = List.of(pod(null));
    Instant latest = deadline.minusSeconds(45);
    assertThat(NodeMarks.holdEvictions(latest.minusSeconds(1), deadline, lead, pods, null)).isTrue();
    assertThat(NodeMarks.holdEvictions(latest, deadline, lead, pods, null)).isFalse();
    assertThat(NodeMarks.holdEvictions(latest.minusSeconds(30), deadline, lead, pods, "2026-01-01T00:00:20Z")).isFalse();
    assertThat(NodeMarks.holdEvictions(latest.minusSeconds(30), deadline, Duration.ZERO, pods, null)).isFalse();
    assertThat(NodeMarks.replacementReadyPatch(Instant.parse("2026-01-01T00:00:20Z")))
        .isEqualTo(Map.of("metadata", Map.of("annotations", Map.of(DovetailLabels.REPLACEMENT_READY, "2026-01-01T00:00:20Z"))));
  }
}
