package dev.dovetail.provisioner.disruption;

import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.provisioner.nodeclaim.NodeClaims;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;
import java.util.Optional;

/** A NodeClaim a disruption method may act on: the claim, its node if it has one, and the pods there. */
public record Candidate(NodeClaim claim, Optional<Node> node, List<Pod> pods) {
  public Candidate {
    pods = List.copyOf(pods);
  }

  public String name() {
    return claim.getMetadata().getName();
  }

  public String nodePool() {
    return NodeClaims.pool(claim);
  }

  public String capacityType() {
    return NodeClaims.capacityType(claim);
  }
}
