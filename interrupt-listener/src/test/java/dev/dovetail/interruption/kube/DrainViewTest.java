package dev.dovetail.interruption.kube;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.disruption.Drain;
import dev.dovetail.api.disruption.DrainPod;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The pod the drain rules see, from the API server's JSON, decides as the full model would. */
class DrainViewTest {
  private static final String FULL = """
      {"metadata":{"name":"p","namespace":"ns","uid":"u","deletionTimestamp":"2026-01-01T00:00:00Z",
        "creationTimestamp":"2025-12-31T23:00:00Z",
        "annotations":{"a":"b","karpenter.sh/do-not-disrupt":"30m"},
        "ownerReferences":[{"apiVersion":"apps/v1","kind":"DaemonSet","name":"ds","uid":"o","controller":true}],
        "managedFields":[{"manager":"kube-controller-manager"}]},
       "spec":{"nodeName":"n","priorityClassName":"system-node-critical",
        "tolerations":[{"key":"k","operator":"Equal","value":"v","effect":"NoExecute","tolerationSeconds":30}],
        "containers":[{"name":"c","image":"i"}]},
       "status":{"phase":"Running","startTime":"2025-12-31T23:30:00Z"}}
      """;

  private static DrainPod pod(String json) throws Exception {
    return DrainView.pod(KubeApi.JSON.readTree(json));
  }

  @Test
  void copiesWhatTheDrainRulesRead() throws Exception {
    DrainPod p = pod(FULL);
    assertThat(p.name()).isEqualTo("p");
    assertThat(p.namespace()).isEqualTo("ns");
    assertThat(p.deletionTimestamp()).isEqualTo("2026-01-01T00:00:00Z");
    assertThat(p.annotations()).containsEntry("a", "b");
    assertThat(p.daemonSet()).isTrue();
    assertThat(p.tolerations()).containsExactly(new DrainPod.Toleration("k", "Equal", "v", "NoExecute"));
    assertThat(p.phase()).isEqualTo("Running");
    assertThat(p.startTime()).isEqualTo("2025-12-31T23:30:00Z");
    assertThat(Drain.tier(p)).isEqualTo(3);
    assertThat(Drain.drainable(p)).isTrue();
  }

  @Test
  void decidesAsTheFabric8ModelOfTheSamePod() throws Exception {
    Pod model = Serialization.unmarshal(FULL, Pod.class);
    assertThat(pod(FULL)).isEqualTo(DrainPod.of(model));
    Instant at = Instant.parse("2025-12-31T23:45:00Z");  // 15 of the 30 minutes since it started
    assertThat(Drain.doNotDisrupt(pod(FULL), at)).isEqualTo(Drain.doNotDisrupt(model, at)).isTrue();
    assertThat(Drain.doNotDisrupt(pod(FULL), at.plusSeconds(3600))).isEqualTo(Drain.doNotDisrupt(model, at.plusSeconds(3600))).isFalse();
  }

  @Test
  void mirrorFinishedAndDisruptionToleratingPodsAreNotWaitedFor() throws Exception {
    assertThat(Drain.drainable(pod("{\"metadata\":{\"name\":\"m\",\"annotations\":{\"kubernetes.io/config.mirror\":\"x\"}}}"))).isFalse();
    assertThat(Drain.drainable(pod("{\"metadata\":{\"name\":\"f\"},\"status\":{\"phase\":\"Succeeded\"}}"))).isFalse();
    assertThat(Drain.drainable(pod("{\"metadata\":{\"name\":\"t\"},\"spec\":{\"tolerations\":[{\"operator\":\"Exists\"}]}}"))).isFalse();
    assertThat(Drain.drainable(pod("{\"metadata\":{\"name\":\"d\"},\"spec\":{\"tolerations\":[{\"key\":\"karpenter.sh/disrupted\","
        + "\"operator\":\"Exists\",\"effect\":\"NoSchedule\"}]}}"))).isFalse();
    DrainPod plain = pod("{\"metadata\":{\"name\":\"w\",\"ownerReferences\":[{\"kind\":\"ReplicaSet\",\"name\":\"rs\",\"controller\":true}]}}");
    assertThat(Drain.drainable(plain)).isTrue();
    assertThat(Drain.tier(plain)).isZero();
  }
}
