package dev.dovetail.provisioner.nodeclaim;

import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.provisioner.controller.Reconciliation;
import dev.dovetail.provisioner.kube.Writer;
import dev.dovetail.provisioner.metrics.KarpenterMetrics;
import dev.dovetail.runtime.Recorder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A claim the lifecycle gives up on (no capacity, never registered, instance gone) is deleted with a
 * warning event and Karpenter's disrupted metric; its pods need new capacity, so provisioning is told.
 */
final class Deletions {
  private static final Logger LOG = LoggerFactory.getLogger(Deletions.class);
  private final Writer writer;
  private final Recorder events;
  private final KarpenterMetrics metrics;
  private final Runnable capacityChanged;

  Deletions(Writer writer, Recorder events, KarpenterMetrics metrics, Runnable capacityChanged) {
    this.writer = writer;
    this.events = events;
    this.metrics = metrics;
    this.capacityChanged = capacityChanged;
  }

  /**
   * @param metricReason Karpenter's {@code reason} label of {@code karpenter_nodeclaims_disrupted_total}
   *     ({@code liveness}, {@code garbage_collected}), or null for none
   */
  void giveUp(NodeClaim claim, Reconciliation context, String eventReason, String message, String metricReason) {
    context.atWarn(LOG).log("{}: {}", eventReason, message);
    events.warning(claim, eventReason, message);
    if (metricReason != null) {
      metrics.nodeClaimDisrupted(metricReason, NodeClaims.pool(claim), NodeClaims.capacityType(claim));
    }
    writer.delete(NodeClaim.class, claim.getMetadata().getName());
    capacityChanged.run();
  }

  /** Deletes without telling anyone but the log (the node was deleted by someone: terminate the claim the same way). */
  void delete(NodeClaim claim) {
    writer.delete(NodeClaim.class, claim.getMetadata().getName());
  }
}
