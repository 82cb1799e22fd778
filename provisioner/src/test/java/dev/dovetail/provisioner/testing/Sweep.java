package dev.dovetail.provisioner.testing;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.harness.v1.WorkloadDistributionRule;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodePool;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.List;

/**
 * Removes what a test made, with no provisioner running: its cluster-scoped objects (finalizers
 * stripped) and its pods, wherever they are (with only an API server, a deleted namespace keeps its
 * pods, and a pending one left over would be provisioned for by the next test's provisioner).
 */
public final class Sweep {
  private Sweep() {
  }

  public static void all(KubernetesClient client) {
    for (Class<? extends HasMetadata> type : List.of(NodeClaim.class, Node.class, NodePool.class, EC2NodeClass.class,
        WorkloadDistributionRule.class)) {
      sweep(client, type);
    }
    client.pods().inAnyNamespace().withLabel(Names.TEST_LABEL).withGracePeriod(0).delete();
  }

  private static <T extends HasMetadata> void sweep(KubernetesClient client, Class<T> type) {
    for (T item : client.resources(type).withLabel(Names.TEST_LABEL).list().getItems()) {
      String name = item.getMetadata().getName();
      try {
        if (item.getMetadata().getFinalizers() != null && !item.getMetadata().getFinalizers().isEmpty()) {
          client.resources(type).withName(name).patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"finalizers\":null}}");
        }
        client.resources(type).withName(name).delete();
      } catch (KubernetesClientException e) {
        if (e.getCode() != 404) {
          throw e;
        }
      }
    }
  }
}
