package dev.dovetail.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodList;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The E2E tier's cluster really is a cluster: kwok makes nodes Ready, kube-controller-manager turns a
 * Deployment into pods, kube-scheduler binds them, kwok runs them, and evictions honour PDBs.
 */
@WithCluster
class ControlPlaneE2EIT {

  @Test
  void deploymentRunsOnKwokNodesAndEvictionHonoursPdb(KubernetesClient client, TestNamespace ns) {
    String nodeName = ns.unique("kwok-node");
    client.nodes().resource(KwokNodes.node(nodeName, Map.of("dovetail.dev/test", ns.name()))).create();
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      var node = client.nodes().withName(nodeName).get();
      return node.getStatus().getConditions() != null && node.getStatus().getConditions().stream()
          .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    });

    Deployment web = new DeploymentBuilder()
        .withNewMetadata().withName("web").withNamespace(ns.name()).endMetadata()
        .withNewSpec().withReplicas(3)
        .withNewSelector().addToMatchLabels("app", "web").endSelector()
        .withNewTemplate().withNewMetadata().addToLabels("app", "web").endMetadata()
        .withNewSpec()
        .addToNodeSelector("dovetail.dev/test", ns.name())
        .addNewContainer().withName("web").withImage("registry.k8s.io/pause:3.10")
        .withNewResources().addToRequests("cpu", new Quantity("500m")).endResources()
        .endContainer()
        .endSpec().endTemplate().endSpec().build();
    client.apps().deployments().inNamespace(ns.name()).resource(web).create();

    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      PodList pods = client.pods().inNamespace(ns.name()).withLabel("app", "web").list();
      assertThat(pods.getItems()).hasSize(3).allSatisfy(p -> {
        assertThat(p.getSpec().getNodeName()).isEqualTo(nodeName);
        assertThat(p.getStatus().getPhase()).isEqualTo("Running");
      });
    });

    client.policy().v1().podDisruptionBudget().inNamespace(ns.name()).resource(new PodDisruptionBudgetBuilder()
        .withNewMetadata().withName("web").endMetadata()
        .withNewSpec().withMinAvailable(new IntOrString(3)).withNewSelector().addToMatchLabels("app", "web").endSelector().endSpec()
        .build()).create();
    // The disruption controller (kube-controller-manager) must have observed the PDB before it guards anything.
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      var pdb = client.policy().v1().podDisruptionBudget().inNamespace(ns.name()).withName("web").get();
      return pdb.getStatus() != null && pdb.getStatus().getObservedGeneration() != null
          && pdb.getStatus().getCurrentHealthy() != null && pdb.getStatus().getCurrentHealthy() == 3;
    });
    Pod victim = client.pods().inNamespace(ns.name()).withLabel("app", "web").list().getItems().get(0);
    // fabric8 reports the API server's 429 (the PDB allows no disruption) as false.
    assertThat(client.pods().inNamespace(ns.name()).withName(victim.getMetadata().getName()).evict()).isFalse();
    assertThat(client.pods().inNamespace(ns.name()).withName(victim.getMetadata().getName()).get().getMetadata().getDeletionTimestamp()).isNull();

    client.policy().v1().podDisruptionBudget().inNamespace(ns.name()).withName("web").edit(p -> {
      p.getSpec().setMinAvailable(new IntOrString(2));
      return p;
    });
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      var pdb = client.policy().v1().podDisruptionBudget().inNamespace(ns.name()).withName("web").get();
      return pdb.getStatus().getDisruptionsAllowed() == 1;
    });
    assertThat(client.pods().inNamespace(ns.name()).withName(victim.getMetadata().getName()).evict()).isTrue();

    client.nodes().withName(nodeName).delete();
  }
}
