package dev.dovetail.interruption;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dovetail.api.interruption.NodeMarks;
import dev.dovetail.interruption.kube.PlainJson;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The taint patch of api's NodeMarks as the agent sends it, from and to the API server's JSON: what it adds, what it keeps
 * (byte for byte), and when there is nothing to send.
 */
class NodeActionsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static JsonNode node(String spec) throws Exception {
    return JSON.readTree("{\"metadata\":{\"name\":\"n\",\"resourceVersion\":\"42\"},\"spec\":" + spec + "}");
  }

  @Test
  void addsTheMissingTaintsAndCordonsGuardedByTheResourceVersion() throws Exception {
    JsonNode n = node("{\"taints\":[{\"key\":\"node.kubernetes.io/unreachable\",\"effect\":\"NoExecute\",\"timeAdded\":\"2026-01-01T00:00:00Z\"}]}");
    JsonNode patch = NodeActions.taintPatch(n, NodeMarks.spotInterruptionTaints("terminate"), true).orElseThrow();
    assertThat(patch.path("metadata").path("resourceVersion").asText()).isEqualTo("42");
    assertThat(patch.path("spec").path("unschedulable").asBoolean()).isTrue();
    JsonNode taints = patch.path("spec").path("taints");
    assertThat(taints).hasSize(3);
    // A merge patch replaces the list whole: the taints already there go back unchanged (timeAdded included).
    assertThat(taints.get(0).toString()).isEqualTo("{\"key\":\"node.kubernetes.io/unreachable\",\"effect\":\"NoExecute\",\"timeAdded\":\"2026-01-01T00:00:00Z\"}");
    assertThat(taints).anySatisfy(t -> assertThat(t.toString()).isEqualTo("{\"key\":\"karpenter.sh/disrupted\",\"value\":\"\",\"effect\":\"NoSchedule\"}"));
    assertThat(taints).anySatisfy(t -> assertThat(t.toString())
        .isEqualTo("{\"key\":\"" + NodeActions.INTERRUPTION_TAINT + "\",\"value\":\"terminate\",\"effect\":\"NoSchedule\"}"));
  }

  @Test
  void nothingToSendWhenTaintedAndCordonedAlready() throws Exception {
    JsonNode n = node("{\"unschedulable\":true,\"taints\":[{\"key\":\"" + NodeActions.REBALANCE_TAINT + "\",\"value\":\"x\",\"effect\":\"NoSchedule\"}]}");
    assertThat(NodeActions.taintPatch(n, Map.of(NodeActions.REBALANCE_TAINT, "true"), true)).isEmpty();
    assertThat(NodeActions.taintPatch(n, Map.of(NodeActions.REBALANCE_TAINT, "true"), false)).isEmpty();
  }

  @Test
  void aTaintWithAnotherEffectDoesNotCountAndATaintOnlyPatchLeavesSchedulingAlone() throws Exception {
    JsonNode n = node("{\"taints\":[{\"key\":\"" + NodeActions.REBALANCE_TAINT + "\",\"effect\":\"PreferNoSchedule\"}]}");
    JsonNode patch = NodeActions.taintPatch(n, Map.of(NodeActions.REBALANCE_TAINT, "true"), false).orElseThrow();
    assertThat(patch.path("spec").path("taints")).hasSize(2);
    assertThat(patch.path("spec").has("unschedulable")).isFalse();
  }

  @Test
  void cordonsAloneWhenTheTaintsAreThere() throws Exception {
    JsonNode n = node("{\"taints\":[{\"key\":\"" + NodeActions.REBALANCE_TAINT + "\",\"value\":\"true\",\"effect\":\"NoSchedule\"}]}");
    JsonNode patch = NodeActions.taintPatch(n, Map.of(NodeActions.REBALANCE_TAINT, "true"), true).orElseThrow();
    assertThat(patch.path("spec").path("unschedulable").asBoolean()).isTrue();
    assertThat(patch.path("spec").path("taints")).hasSize(1);
  }

  @Test
  void theAnnotationPatchTouchesOneKey() {
    assertThat(PlainJson.tree(NodeMarks.annotationPatch("spot-interruption@2026-01-01T00:00:00Z")).toString())
        .isEqualTo("{\"metadata\":{\"annotations\":{\"dovetail.dev/interruption\":\"spot-interruption@2026-01-01T00:00:00Z\"}}}");
  }
}
