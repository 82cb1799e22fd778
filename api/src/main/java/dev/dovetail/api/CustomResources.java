package dev.dovetail.api;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfig;
import dev.dovetail.api.harness.v1.WorkloadDistributionRule;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodePool;
import io.fabric8.kubernetes.client.CustomResource;
import java.util.List;

/** Every custom resource kind Dovetail serves; the CRDs in {@code manifests/crds} are generated from these. */
public final class CustomResources {
  private CustomResources() {
  }

  public static final List<Class<? extends CustomResource<?, ?>>> ALL = List.of(
      NodePool.class, NodeClaim.class, EC2NodeClass.class, WorkloadDistributionRule.class, ClusterOrchestratorConfig.class);
}
