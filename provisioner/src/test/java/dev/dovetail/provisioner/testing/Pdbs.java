package dev.dovetail.provisioner.testing;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.function.UnaryOperator;

/**
 * PodDisruptionBudgets: {@link #pdb} makes one with {@code minAvailable: 1} in namespace {@code default}
 * that selects nothing until an override says what ({@link #selecting}); overrides apply in order. With
 * only an API server there is no disruption controller: {@link #allow} writes the status it would.
 */
public final class Pdbs {
  private Pdbs() {
  }

  @SafeVarargs
  public static PodDisruptionBudget pdb(UnaryOperator<PodDisruptionBudgetBuilder>... overrides) {
    PodDisruptionBudgetBuilder b = new PodDisruptionBudgetBuilder()
        .withNewMetadata().withName(Names.unique("pdb")).withNamespace("default").addToLabels(Names.TEST_LABEL, "true").endMetadata()
        .withNewSpec().withMinAvailable(new IntOrString(1)).withNewSelector().endSelector().endSpec();
    for (UnaryOperator<PodDisruptionBudgetBuilder> o : overrides) {
      b = o.apply(b);
    }
    return b.build();
  }

  public static UnaryOperator<PodDisruptionBudgetBuilder> in(String namespace) {
    return b -> b.editMetadata().withNamespace(namespace).endMetadata();
  }

  public static UnaryOperator<PodDisruptionBudgetBuilder> selecting(String key, String value) {
    return b -> b.editSpec().editSelector().addToMatchLabels(key, value).endSelector().endSpec();
  }

  /**
   * The status kube-controller-manager's disruption controller writes for {@code healthy} selected pods
   * of which {@code disruptionsAllowed} may go: what the Eviction API decides by.
   */
  public static PodDisruptionBudget allow(KubernetesClient client, PodDisruptionBudget pdb, int healthy, int disruptionsAllowed) {
    PodDisruptionBudget current = client.policy().v1().podDisruptionBudget().inNamespace(pdb.getMetadata().getNamespace())
        .withName(pdb.getMetadata().getName()).get();
    current.setStatus(new PodDisruptionBudgetStatusBuilder().withObservedGeneration(current.getMetadata().getGeneration())
        .withExpectedPods(healthy).withCurrentHealthy(healthy).withDesiredHealthy(healthy - disruptionsAllowed)
        .withDisruptionsAllowed(disruptionsAllowed).build());
    return client.policy().v1().podDisruptionBudget().resource(current).updateStatus();
  }
}
