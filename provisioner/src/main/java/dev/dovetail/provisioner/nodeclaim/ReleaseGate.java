package dev.dovetail.provisioner.nodeclaim;

import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.provisioner.controller.Reconciliation;
import io.fabric8.kubernetes.api.model.Node;
import java.time.Duration;
import java.util.Optional;

/**
 * What registration asks before it releases a claim's node to the scheduler (takes its
 * {@code karpenter.sh/unregistered} taint off): the provisioner's launch groups hook in here, so the
 * NodeClaim lifecycle needs no knowledge of provisioning.
 */
@FunctionalInterface
public interface ReleaseGate {
  /** Releases at once. */
  ReleaseGate NONE = (claim, node, context) -> Optional.empty();

  /** Empty to release the node now; else how long to wait before asking again (an event may bring it sooner). */
  Optional<Duration> holdBeforeRelease(NodeClaim claim, Node node, Reconciliation context);
}
