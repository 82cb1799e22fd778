package dev.dovetail.provisioner.testing;

import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.karpenter.v1.WellKnownTaints;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Nodes as a kubelet registers them: {@link #node} makes a Node with 4 CPUs, 16Gi and 110 pods, not
 * Ready, no taints, and applies the overrides in order (the last one to set a field wins). The
 * hostname label follows the final name.
 */
public final class Nodes {
  private Nodes() {
  }

  @SafeVarargs
  public static Node node(UnaryOperator<NodeBuilder>... overrides) {
    Map<String, Quantity> resources = Map.of("cpu", new Quantity("4"), "memory", new Quantity("16Gi"), "pods", new Quantity("110"));
    NodeBuilder b = new NodeBuilder()
        .withNewMetadata().withName(Names.unique("node")).addToLabels(Names.TEST_LABEL, "true").endMetadata()
        .withNewSpec().endSpec()
        .withNewStatus().withCapacity(resources).withAllocatable(resources).endStatus();
    for (UnaryOperator<NodeBuilder> o : overrides) {
      b = o.apply(b);
    }
    Node node = b.build();
    node.getMetadata().getLabels().putIfAbsent(WellKnownLabels.HOSTNAME, node.getMetadata().getName());
    return node;
  }

  public static UnaryOperator<NodeBuilder> named(String name) {
    return b -> b.editMetadata().withName(name).endMetadata();
  }

  public static UnaryOperator<NodeBuilder> label(String key, String value) {
    return b -> b.editMetadata().addToLabels(key, value).endMetadata();
  }

  public static UnaryOperator<NodeBuilder> annotation(String key, String value) {
    return b -> b.editMetadata().addToAnnotations(key, value).endMetadata();
  }

  public static UnaryOperator<NodeBuilder> providerId(String providerId) {
    return b -> b.editSpec().withProviderID(providerId).endSpec();
  }

  public static UnaryOperator<NodeBuilder> taint(String key, String effect) {
    return b -> b.editSpec().addNewTaint().withKey(key).withEffect(effect).endTaint().endSpec();
  }

  /** The Ready condition, True (a kubelet that has started). */
  public static UnaryOperator<NodeBuilder> ready() {
    String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    return b -> b.editStatus().addNewCondition().withType("Ready").withStatus("True").withReason("KubeletReady")
        .withMessage("kubelet is posting ready status").withLastHeartbeatTime(now).withLastTransitionTime(now).endCondition().endStatus();
  }

  /**
   * What the kubelet of a launched claim's instance registers: the claim's provider ID and resources and
   * the {@code karpenter.sh/unregistered} taint its bootstrap adds; none of the claim's labels or taints
   * (registration is what puts those on).
   */
  public static UnaryOperator<NodeBuilder> launchedFor(NodeClaim claim) {
    return b -> b.editSpec().withProviderID(claim.getStatus().providerID())
        .addNewTaint().withKey(WellKnownTaints.UNREGISTERED).withEffect("NoExecute").endTaint().endSpec()
        .editStatus().withCapacity(claim.getStatus().capacity()).withAllocatable(claim.getStatus().allocatable()).endStatus();
  }
}
