package dev.dovetail.provisioner.nodeclaim;

import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.provisioner.controller.Reconciliation;
import io.fabric8.kubernetes.api.model.Node;
import java.time.Duration;
import java.util.Optional;

/**
 * What registration asks before it releases a claim's node to the scheduler (takes its
 * {@code karpenter.sh/unregistered} taint off), and what initialization tells when the node is ready:
 * the provisioner's plan for the node's pods hooks in here, so the NodeClaim lifecycle needs no
 * knowledge of provisioning.
 */
public interface ReleaseGate {
  /** Releases at once and does nothing on initialization. */
  ReleaseGate NONE = new ReleaseGate() {
    @Override
    public Optional<Duration> holdBeforeRelease(NodeClaim claim, Node node, Reconciliation context) {
      return Optional.empty();
    }

    @Override
    public void initialized(NodeClaim claim, Node node, Reconciliation context) {
    }
  };

  /** Empty to release the node now; else how long to wait before asking again (an event may bring it sooner). */
  Optional<Duration> holdBeforeRelease(NodeClaim claim, Node node, Reconciliation context);

  /** The claim's node has initialized. */
  void initialized(NodeClaim claim, Node node, Reconciliation context);
}
