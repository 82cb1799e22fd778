package dev.dovetail.provisioner.disruption;

import dev.dovetail.api.disruption.Drain;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.provisioner.nodeclaim.NodeClaims;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;
import java.util.Optional;

/**
 * A NodeClaim a disruption method may act on: the claim, its node if it has one, the pods there, and of
 * them those that would need a new home if it went (not DaemonSet, mirror or finished pods; worked out
 * once, as every method asks).
 */
public record Candidate(NodeClaim claim, Optional<Node> node, List<Pod> pods, List<Pod> moving) {
  public Candidate {
    pods = List.copyOf(pods);
    moving = List.copyOf(moving);
  }

  public Candidate(NodeClaim claim, Optional<Node> node, List<Pod> pods) {
    this(claim, node, pods, pods.stream().filter(Drain::reschedulable).toList());
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
