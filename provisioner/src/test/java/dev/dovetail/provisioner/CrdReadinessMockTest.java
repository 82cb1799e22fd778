package dev.dovetail.provisioner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dovetail.api.CustomResources;
import dev.dovetail.testkit.RepoPaths;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionBuilder;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The provisioner stays unready, naming the missing CRDs, until every Dovetail CRD is Established. */
@EnableKubernetesMockClient(crud = true)
class CrdReadinessMockTest {
  KubernetesClient client;

  @Test
  void readinessFollowsTheCrdsOnTheServer() throws IOException {
    List<String> required = CustomResources.ALL.stream().map(CustomResource::getCRDName).toList();
    try (SharedIndexInformer<CustomResourceDefinition> informer = client.apiextensions().v1().customResourceDefinitions().inform()) {
      await().atMost(Duration.ofSeconds(10)).until(informer::hasSynced);
      assertThat(ProvisionerMain.missingCrds(informer, required)).hasValueSatisfying(p ->
          assertThat(p).contains("nodepools.karpenter.sh", "workloaddistributionrules.ccm.harness.io", "kubectl apply -f manifests/crds"));

      for (String name : required) {
        client.apiextensions().v1().customResourceDefinitions().resource(crd(name, "False")).create();
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> informer.getStore().list().size() == required.size());
      assertThat(ProvisionerMain.missingCrds(informer, required)).as("created but not Established").isPresent();

      for (String name : required) {
        client.apiextensions().v1().customResourceDefinitions().resource(crd(name, "True")).update();
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> ProvisionerMain.missingCrds(informer, required).equals(Optional.empty()));
    }
  }

  /** The real generated CRD, with the Established condition the API server would write. */
  private static CustomResourceDefinition crd(String name, String established) throws IOException {
    Path file;
    try (Stream<Path> files = Files.list(RepoPaths.manifests().resolve("crds"))) {
      file = files.filter(p -> p.getFileName().toString().endsWith("_" + name.substring(0, name.indexOf('.')) + ".yaml"))
          .findFirst().orElseThrow();
    }
    CustomResourceDefinition crd = Serialization.unmarshal(Files.readString(file), CustomResourceDefinition.class);
    return new CustomResourceDefinitionBuilder(crd)
        .withNewStatus().addNewCondition().withType("Established").withStatus(established).endCondition().endStatus()
        .build();
  }
}
