package dev.dovetail.state;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.scheduling.Resources;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.WatchEvent;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrimmedSerializationTest {
  private static final Pod POD = new PodBuilder()
      .withNewMetadata().withName("api-1").withNamespace("shop").withUid("u-1").withCreationTimestamp("2026-12-05T01:00:00Z")
      .withDeletionTimestamp("2026-12-05T02:00:00Z").addToLabels("app", "api").addToAnnotations("kubectl.kubernetes.io/last-applied-configuration", "{}")
      .addNewOwnerReference().withApiVersion("apps/v1").withKind("ReplicaSet").withName("api-rs").withUid("rs-1").withController(true).endOwnerReference()
      .addNewManagedField().withManager("kubectl").withOperation("Update").endManagedField()
      .endMetadata()
      .withNewSpec().withNodeName("node-a").withSchedulerName("default-scheduler").addToNodeSelector("karpenter.sh/capacity-type", "spot")
      .addNewVolume().withName("data").withNewEmptyDir().endEmptyDir().endVolume()
      .addNewToleration().withKey("node.kubernetes.io/not-ready").withOperator("Exists").withEffect("NoExecute").endToleration()
      .addNewInitContainer().withName("init").withImage("busybox").withNewResources().addToRequests("cpu", new Quantity("2"))
      .endResources().endInitContainer()
      .addNewContainer().withName("app").withImage("registry.example/api:1").addNewEnv().withName("A").withValue("b").endEnv()
      .addNewPort().withContainerPort(8080).endPort().withNewResources().addToRequests("cpu", new Quantity("500m"))
      .addToRequests("memory", new Quantity("1Gi")).endResources().endContainer()
      .addNewContainer().withName("sidecar").withImage("envoy").withNewResources().addToRequests("cpu", new Quantity("250m")).endResources()
      .endContainer()
      .addToOverhead("memory", new Quantity("64Mi"))
      .endSpec()
      .withNewStatus().withPhase("Running").withHostIP("10.0.0.1").withQosClass("Burstable")
      .addNewCondition().withType("Ready").withStatus("True").endCondition()
      .addNewContainerStatus().withName("app").withReady(true).endContainerStatus()
      .endStatus().build();

  private static final Node NODE = new NodeBuilder()
      .withNewMetadata().withName("node-a").addToLabels("karpenter.sh/capacity-type", "spot")
      .addToLabels("topology.kubernetes.io/zone", "us-east-1a").addToLabels("node.kubernetes.io/instance-type", "m5.large")
      .addToLabels("karpenter.sh/nodepool", "general").addToAnnotations("note", "x").endMetadata()
      .withNewSpec().withUnschedulable(true).addNewTaint().withKey("k").withEffect("NoSchedule").endTaint().endSpec()
      .withNewStatus().addToAllocatable(Map.of("cpu", new Quantity("1930m"), "memory", new Quantity("7Gi"), "pods", new Quantity("29")))
      .addNewCondition().withType("Ready").withStatus("True").endCondition()
      .addNewImage().addToNames("registry.example/api:1").withSizeBytes(1L).endImage()
      .addNewAddress().withType("InternalIP").withAddress("10.0.0.1").endAddress().endStatus().build();

  /** Decoded as an informer decodes it: a watch event whose object is typed by its kind. */
  private static <T> T viaWatch(KubernetesSerialization serialization, Object object) {
    String json = "{\"type\":\"MODIFIED\",\"object\":" + Serialization.asJson(object) + "}";
    @SuppressWarnings("unchecked")
    T decoded = (T) serialization.unmarshal(json, WatchEvent.class).getObject();
    return decoded;
  }

  @Test
  void theDerivedStateIsTheSameFromEveryDecoding() {
    for (KubernetesSerialization s : new KubernetesSerialization[] {TrimmedSerialization.create(), TrimmedSerialization.derivedStateOnly()}) {
      Pod pod = viaWatch(s, POD);
      assertThat(Resources.requestsOf(pod)).isEqualTo(Resources.requestsOf(POD));
      assertThat(pod.getSpec().getNodeName()).isEqualTo("node-a");
      assertThat(pod.getStatus().getPhase()).isEqualTo("Running");
      assertThat(pod.getMetadata().getDeletionTimestamp()).isEqualTo("2026-12-05T02:00:00Z");
      assertThat(pod.getMetadata().getCreationTimestamp()).isEqualTo("2026-12-05T01:00:00Z");
      assertThat(pod.getMetadata().getOwnerReferences()).singleElement()
          .satisfies(o -> assertThat(o.getUid()).isEqualTo("rs-1")).satisfies(o -> assertThat(o.getController()).isTrue());
      Node node = viaWatch(s, NODE);
      assertThat(NodeFacts.of(node, Catalog.bundled())).isEqualTo(NodeFacts.of(NODE, Catalog.bundled()));
    }
  }

  @Test
  void theProvisionersDecodingKeepsWhatItsSimulationReads() {
    Pod pod = viaWatch(TrimmedSerialization.create(), POD);
    assertThat(pod.getMetadata().getManagedFields()).isNullOrEmpty();
    assertThat(pod.getMetadata().getAnnotations()).containsKey("kubectl.kubernetes.io/last-applied-configuration");
    assertThat(pod.getSpec().getVolumes()).hasSize(1);
    assertThat(pod.getSpec().getTolerations()).hasSize(1);
    assertThat(pod.getSpec().getNodeSelector()).containsKey("karpenter.sh/capacity-type");
    assertThat(pod.getStatus().getConditions()).hasSize(1);
    assertThat(pod.getStatus().getContainerStatuses()).isNullOrEmpty();
    assertThat(pod.getSpec().getContainers().get(0).getEnv()).isNullOrEmpty();
    Node node = viaWatch(TrimmedSerialization.create(), NODE);
    assertThat(node.getSpec().getTaints()).hasSize(1);
    assertThat(node.getStatus().getConditions()).hasSize(1);
    assertThat(node.getStatus().getImages()).isNullOrEmpty();
  }

  @Test
  void theExtendersDecodingDropsWhatOnlyTheSimulationReads() {
    Pod pod = viaWatch(TrimmedSerialization.derivedStateOnly(), POD);
    assertThat(pod.getMetadata().getAnnotations()).isNullOrEmpty();
    assertThat(pod.getSpec().getVolumes()).isNullOrEmpty();
    assertThat(pod.getSpec().getTolerations()).isNullOrEmpty();
    assertThat(pod.getSpec().getNodeSelector()).isNullOrEmpty();
    assertThat(pod.getStatus().getConditions()).isNullOrEmpty();
    assertThat(pod.getStatus().getHostIP()).isNull();
    assertThat(pod.getSpec().getContainers()).extracting(c -> c.getImage()).containsOnlyNulls();
    assertThat(pod.getSpec().getContainers()).flatExtracting(c -> c.getPorts()).isEmpty();
    assertThat(pod.getAdditionalProperties()).isEmpty();
    assertThat(pod.getSpec().getAdditionalProperties()).isEmpty();
    Node node = viaWatch(TrimmedSerialization.derivedStateOnly(), NODE);
    assertThat(node.getStatus().getConditions()).isNullOrEmpty();
    assertThat(node.getStatus().getAddresses()).isNullOrEmpty();
    assertThat(node.getMetadata().getLabels()).containsEntry("karpenter.sh/capacity-type", "spot");
  }
}
