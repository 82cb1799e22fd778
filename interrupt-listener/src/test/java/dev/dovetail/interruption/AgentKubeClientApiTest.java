package dev.dovetail.interruption;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dovetail.api.disruption.DrainPod;
import dev.dovetail.api.interruption.NodeMarks;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.interruption.kube.Events;
import dev.dovetail.interruption.kube.KubeApi;
import dev.dovetail.interruption.kube.KubeApiException;
import dev.dovetail.interruption.kube.KubeConfig;
import dev.dovetail.runtime.events.EventRecorder;
import dev.dovetail.testkit.ControlPlane;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithApiServer;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.TaintBuilder;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/**
 * The agent's own API client against a real kube-apiserver, authenticated with the test kubeconfig: the
 * node taint patch (and its conflict guard), the NodeClaim mark, evictions a PodDisruptionBudget refuses
 * (no disruption controller runs here, so every budget allows nothing), deletion and events.
 */
@WithApiServer
class AgentKubeClientApiTest {
  private static String unique(String prefix) {
    return prefix + "-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
  }

  private static KubeApi api(ControlPlane cp) {
    return KubeApi.connect(KubeConfig.fromKubeconfig(cp.kubeconfig(), Clock.systemUTC()), Duration.ofSeconds(10));
  }

  @Test
  void taintsAndCordonsKeepingWhatIsThereAndAStaleVersionIsAConflict(ControlPlane cp, KubernetesClient client) {
    String name = unique("taint");
    Node node = InterruptionE2EIT.node(name, "p");
    node.getSpec().setTaints(List.of(new TaintBuilder().withKey("example.com/other").withValue("x").withEffect("NoExecute").build()));
    client.nodes().resource(node).create();
    KubeApi api = api(cp);
    NodeActions actions = new NodeActions(api, name);
    JsonNode before = actions.node().orElseThrow();

    actions.taint(NodeMarks.spotInterruptionTaints("terminate"), true);
    actions.taint(NodeMarks.spotInterruptionTaints("terminate"), true);  // idempotent: nothing left to add

    Node after = client.nodes().withName(name).get();
    assertThat(after.getSpec().getUnschedulable()).isTrue();
    // (The API server adds node.kubernetes.io/not-ready to a new node itself.)
    assertThat(after.getSpec().getTaints()).extracting(Taint::getKey)
        .contains("example.com/other", WellKnownLabels.DISRUPTED_TAINT, NodeActions.INTERRUPTION_TAINT).doesNotHaveDuplicates();
    assertThat(after.getSpec().getTaints()).filteredOn(t -> t.getKey().equals(NodeActions.INTERRUPTION_TAINT))
        .singleElement().satisfies(t -> assertThat(t.getValue()).isEqualTo("terminate"));

    // A patch built from the node as it was is refused: a taint added meanwhile is never lost.
    JsonNode stale = NodeActions.taintPatch(before, Map.of(NodeActions.REBALANCE_TAINT, "true"), false).orElseThrow();
    assertThatThrownBy(() -> api.patch("/api/v1/nodes/" + name, KubeApi.MERGE_PATCH, stale))
        .isInstanceOfSatisfying(KubeApiException.class, e -> assertThat(e.conflict()).isTrue());

    assertThat(new NodeActions(api, unique("absent")).node()).isEmpty();
    assertThatThrownBy(() -> new NodeActions(api, unique("absent")).taint(Map.of(NodeActions.REBALANCE_TAINT, "true"), false))
        .hasMessageContaining("does not exist");
  }

  @Test
  void marksTheNodeClaimAndNeverReplacesASpotInterruptionWithAMilderNotice(ControlPlane cp, KubernetesClient client) {
    String name = unique("claimed");
    client.nodes().resource(InterruptionE2EIT.node(name, "p")).create();
    InterruptionE2EIT.claim(client, name, null);

    NodeActions actions = new NodeActions(api(cp), name);
    String spot = NodeMarks.notice(NodeMarks.SPOT_INTERRUPTION, Instant.parse("2026-01-01T00:02:00Z"));
    assertThat(actions.markNodeClaim(spot)).contains(name);
    assertThat(actions.markNodeClaim(NodeMarks.notice(NodeMarks.REBALANCE_RECOMMENDATION, Instant.parse("2026-01-01T00:03:00Z")))).contains(name);
    assertThat(client.resources(NodeClaim.class).withName(name).get().getMetadata().getAnnotations())
        .containsEntry(NodeActions.INTERRUPTION_ANNOTATION, spot);

    String unclaimed = unique("unclaimed");
    client.nodes().resource(InterruptionE2EIT.node(unclaimed, "p")).create();
    assertThat(new NodeActions(api(cp), unclaimed).markNodeClaim(spot)).isEmpty();
  }

  @Test
  void evictsWhatTheBudgetAllowsAndDeletesPastTheDeadline(ControlPlane cp, KubernetesClient client, TestNamespace ns) {
    String nodeName = unique("drain");
    client.nodes().resource(InterruptionE2EIT.node(nodeName, "p")).create();
    for (String pod : List.of("guarded", "free")) {
      client.pods().inNamespace(ns.name()).resource(new PodBuilder().withNewMetadata().withName(pod).addToLabels("app", pod).endMetadata()
          .withNewSpec().withNodeName(nodeName).addNewContainer().withName("c").withImage("registry.k8s.io/pause:3.10").endContainer().endSpec()
          .build()).create();
      // Running and ready, as a kubelet would report it: a pending pod is evicted whatever its budget says.
      var running = client.pods().inNamespace(ns.name()).withName(pod).get();
      running.setStatus(new PodStatusBuilder().withPhase("Running").addNewCondition().withType("Ready").withStatus("True").endCondition().build());
      client.pods().inNamespace(ns.name()).resource(running).updateStatus();
    }
    client.policy().v1().podDisruptionBudget().resource(new PodDisruptionBudgetBuilder().withNewMetadata().withName("guard")
        .withNamespace(ns.name()).endMetadata().withNewSpec().withMinAvailable(new IntOrString(1))
        .withNewSelector().addToMatchLabels("app", "guarded").endSelector().endSpec().build()).create();
    Drainer drainer = new Drainer(api(cp), nodeName, Clock.systemUTC());
    assertThat(drainer.remaining()).extracting(DrainPod::name).containsExactlyInAnyOrder("guarded", "free");

    Drainer.Round round = drainer.round(Optional.empty());
    assertThat(round.remaining()).isEqualTo(2);
    // No disruption controller runs here, so the budget is never processed and refuses every eviction (429).
    assertThat(round.refused()).isEqualTo(1);
    // Evicted: deleted gracefully; with no kubelet it stays terminating, which the next round skips.
    await().atMost(Duration.ofSeconds(10)).until(() -> client.pods().inNamespace(ns.name()).withName("free").get().getMetadata()
        .getDeletionTimestamp() != null);

    Drainer.Round late = drainer.round(Optional.of(Instant.now().minusSeconds(1)));
    assertThat(late.deletedPastDeadline()).isEqualTo(1);
    await().atMost(Duration.ofSeconds(10)).until(() -> client.pods().inNamespace(ns.name()).withName("guarded").get().getMetadata()
        .getDeletionTimestamp() != null);
  }

  @Test
  void writesEventsOnTheNodeOncePerWindow(ControlPlane cp, KubernetesClient client) {
    String name = unique("evented");
    client.nodes().resource(InterruptionE2EIT.node(name, "p")).create();
    KubeApi api = api(cp);
    try (EventRecorder events = new EventRecorder(new Events(api), "dovetail-interrupt-listener", Clock.systemUTC(), name,
        new SimpleMeterRegistry(), Events.QUEUE)) {
      EventRecorder.Involved node = Events.involved(new NodeActions(api, name).node().orElseThrow());
      events.warning(node, "SpotInterrupted", "the instance will terminate");
      events.warning(node, "SpotInterrupted", "the instance will terminate");
      events.normal(node, "Drained", "All pods evicted ahead of the interruption");
    }
    var written = client.v1().events().inNamespace("default").list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName())).toList();
    assertThat(written).extracting(e -> e.getReason()).containsExactlyInAnyOrder("SpotInterrupted", "Drained");
    assertThat(written).allSatisfy(e -> {
      assertThat(e.getInvolvedObject().getKind()).isEqualTo("Node");
      assertThat(e.getInvolvedObject().getUid()).isEqualTo(client.nodes().withName(name).get().getMetadata().getUid());
      assertThat(e.getSource().getComponent()).isEqualTo("dovetail-interrupt-listener");
    });
  }
}
