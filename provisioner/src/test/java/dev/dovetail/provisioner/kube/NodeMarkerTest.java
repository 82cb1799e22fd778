package dev.dovetail.provisioner.kube;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.interruption.NodeMarks;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The node as the shared taint patch reads it from the fabric8 model, and the patch this writer sends. */
class NodeMarkerTest {
  @Test
  void theTaintsThereGoBackWholeAndTheNewOnesAreAdded() {
    Node node = new NodeBuilder().withNewMetadata().withName("n").withResourceVersion("42").endMetadata().withNewSpec()
        .addNewTaint().withKey("node.kubernetes.io/unreachable").withEffect("NoExecute").withTimeAdded("2026-01-01T00:00:00Z").endTaint()
        .endSpec().build();
    NodeMarks.NodeState state = NodeMarker.state(node);
    assertThat(state.resourceVersion()).isEqualTo("42");
    assertThat(state.unschedulable()).isFalse();
    assertThat(state.taints()).containsExactly(
        Map.of("key", "node.kubernetes.io/unreachable", "effect", "NoExecute", "timeAdded", "2026-01-01T00:00:00Z"));

    String patch = Serialization.asJson(NodeMarks.taintPatch(state, NodeMarks.spotInterruptionTaints("terminate"), true).orElseThrow());
    assertThat(patch).contains("\"resourceVersion\":\"42\"", "\"unschedulable\":true", "\"timeAdded\":\"2026-01-01T00:00:00Z\"",
        "{\"key\":\"karpenter.sh/disrupted\",\"value\":\"\",\"effect\":\"NoSchedule\"}",
        "{\"key\":\"dovetail.dev/spot-interruption\",\"value\":\"terminate\",\"effect\":\"NoSchedule\"}");
  }

  @Test
  void aCordonedNodeWithoutTaints() {
    Node node = new NodeBuilder().withNewMetadata().withName("n").withResourceVersion("7").endMetadata().withNewSpec()
        .withUnschedulable(true).endSpec().build();
    assertThat(NodeMarker.state(node).taints()).isEqualTo(List.of());
    assertThat(NodeMarker.state(node).unschedulable()).isTrue();
    assertThat(NodeMarks.taintPatch(NodeMarker.state(node), Map.of(), true)).isEmpty();
  }
}
