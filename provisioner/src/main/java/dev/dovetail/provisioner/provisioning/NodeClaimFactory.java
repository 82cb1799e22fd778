package dev.dovetail.provisioner.provisioning;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.drift.Hashes;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeClaimSpec;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.ResourceRequirements;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.InstanceOption;
import dev.dovetail.api.scheduling.NewClaim;
import dev.dovetail.api.scheduling.Requirement;
import dev.dovetail.api.scheduling.Requirements;
import dev.dovetail.provisioner.nodeclaim.NodeClaims;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** NodeClaims as Karpenter creates them from a NodePool for a simulated claim. */
public final class NodeClaimFactory {
  private NodeClaimFactory() {
  }

  /**
   * The NodeClaim for a new claim: {@code generateName <pool>-}; the pool's template labels and
   * annotations, {@code karpenter.sh/nodepool}, the node class label and every single-valued
   * requirement as labels; the drift hashes; an owner reference to the pool; requirements narrowed to
   * the claim's instance types; the pods' requests plus DaemonSet overhead as resource requests.
   */
  public static NodeClaim create(NewClaim claim, NodePool pool, EC2NodeClass nodeClass, String launchGroup) {
    var template = pool.getSpec().template();
    Requirements requirements = claim.requirements()
        .and(Requirement.in(WellKnownLabels.INSTANCE_TYPE, claim.options().stream().map(InstanceOption::name).toList()));
    Map<String, String> labels = new TreeMap<>();
    if (template.metadata() != null && template.metadata().labels() != null) {
      labels.putAll(template.metadata().labels());
    }
    requirements.singleValues().forEach((k, v) -> {
      if (!k.equals(WellKnownLabels.HOSTNAME)) {
        labels.put(k, v);
      }
    });
    labels.put(WellKnownLabels.NODEPOOL, pool.getMetadata().getName());
    labels.put(WellKnownLabels.EC2NODECLASS, nodeClass.getMetadata().getName());
    Map<String, String> annotations = new TreeMap<>();
    if (template.metadata() != null && template.metadata().annotations() != null) {
      annotations.putAll(template.metadata().annotations());
    }
    annotations.put(Hashes.NODEPOOL_HASH, Hashes.nodePool(pool));
    annotations.put(Hashes.NODEPOOL_HASH_VERSION, Hashes.NODEPOOL_HASH_VERSION_VALUE);
    annotations.put(Hashes.NODECLASS_HASH, Hashes.nodeClass(nodeClass));
    annotations.put(Hashes.NODECLASS_HASH_VERSION, Hashes.NODECLASS_HASH_VERSION_VALUE);
    annotations.put(DovetailLabels.LAUNCH_GROUP, launchGroup);
    var spec = template.spec();
    NodeClaim out = new NodeClaim();
    out.setMetadata(new ObjectMetaBuilder()
        .withGenerateName(pool.getMetadata().getName() + "-")
        .withLabels(labels)
        .withAnnotations(annotations)
        .withFinalizers(List.of(NodeClaims.TERMINATION_FINALIZER))
        .withOwnerReferences(new OwnerReferenceBuilder().withApiVersion(pool.getApiVersion()).withKind(pool.getKind())
            .withName(pool.getMetadata().getName()).withUid(pool.getMetadata().getUid()).withBlockOwnerDeletion(true).build())
        .build());
    // Hostname requirements (from the simulation's topology) name simulated nodes; the API forbids them.
    var karpenterRequirements = requirements.toKarpenter().stream().filter(r -> !r.key().equals(WellKnownLabels.HOSTNAME)).toList();
    out.setSpec(new NodeClaimSpec(spec.taints(), spec.startupTaints(), karpenterRequirements,
        new ResourceRequirements(claim.requests().toQuantities()), spec.nodeClassRef(), spec.terminationGracePeriod(),
        spec.expireAfter() == null ? NodeClaims.DEFAULT_EXPIRE_AFTER : spec.expireAfter()));
    return out;
  }
}
