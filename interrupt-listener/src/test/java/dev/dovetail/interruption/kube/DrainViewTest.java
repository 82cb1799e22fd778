package dev.dovetail.interruption.kube;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.disruption.Drain;
import io.fabric8.kubernetes.api.model.Pod;
import org.junit.jupiter.api.Test;

/** The pod the drain rules see, from the API server's JSON, decides as the full model would. */
class DrainViewTest {
  private static Pod pod(String json) throws Exception {
    return DrainView.pod(KubeApi.JSON.readTree(json));
  }

  @Test
  void copiesWhatTheDrainRulesRead() throws Exception {
    Pod p = pod("""
        {"metadata":{"name":"p","namespace":"ns","uid":"u","deletionTimestamp":"2026-01-01T00:00:00Z",
          "annotations":{"a":"b"},"ownerReferences":[{"apiVersion":"apps/v1","kind":"DaemonSet","name":"ds","uid":"o","controller":true}],
          "managedFields":[{"manager":"kube-controller-manager"}]},
         "spec":{"nodeName":"n","priorityClassName":"system-node-critical",
          "tolerations":[{"key":"k","operator":"Equal","value":"v","effect":"NoExecute","tolerationSeconds":30}],
          "containers":[{"name":"c","image":"i"}]},
         "status":{"phase":"Running"}}
        """);
    assertThat(p.getMetadata().getName()).isEqualTo("p");
    assertThat(p.getMetadata().getNamespace()).isEqualTo("ns");
    assertThat(p.getMetadata().getDeletionTimestamp()).isEqualTo("2026-01-01T00:00:00Z");
    assertThat(p.getMetadata().getAnnotations()).containsEntry("a", "b");
    assertThat(p.getMetadata().getOwnerReferences().get(0).getController()).isTrue();
    assertThat(p.getSpec().getTolerations().get(0).getTolerationSeconds()).isEqualTo(30L);
    assertThat(p.getSpec().getTolerations().get(0).getEffect()).isEqualTo("NoExecute");
    assertThat(p.getStatus().getPhase()).isEqualTo("Running");
    assertThat(Drain.tier(p)).isEqualTo(3);
    assertThat(Drain.drainable(p)).isTrue();
  }

  @Test
  void mirrorFinishedAndDisruptionToleratingPodsAreNotWaitedFor() throws Exception {
    assertThat(Drain.drainable(pod("{\"metadata\":{\"name\":\"m\",\"annotations\":{\"kubernetes.io/config.mirror\":\"x\"}}}"))).isFalse();
    assertThat(Drain.drainable(pod("{\"metadata\":{\"name\":\"f\"},\"status\":{\"phase\":\"Succeeded\"}}"))).isFalse();
    assertThat(Drain.drainable(pod("{\"metadata\":{\"name\":\"t\"},\"spec\":{\"tolerations\":[{\"operator\":\"Exists\"}]}}"))).isFalse();
    Pod plain = pod("{\"metadata\":{\"name\":\"w\",\"ownerReferences\":[{\"kind\":\"ReplicaSet\",\"name\":\"rs\",\"controller\":true}]}}");
    assertThat(Drain.drainable(plain)).isTrue();
    assertThat(Drain.tier(plain)).isZero();
  }
}
