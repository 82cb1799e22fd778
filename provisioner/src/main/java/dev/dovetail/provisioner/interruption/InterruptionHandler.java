package dev.dovetail.provisioner.interruption;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.interruption.NodeMarks;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.cloud.CloudProvider;
import dev.dovetail.provisioner.cloud.ProviderId;
import dev.dovetail.provisioner.cluster.Caches;
import dev.dovetail.provisioner.kube.NodeMarker;
import dev.dovetail.runtime.Recorder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the provisioner does with an interruption event from the queue, the same as the per-node agent
 * does with an IMDS notice: mark the NodeClaim (its pods get a replacement launched at once), taint
 * and cordon the node; then, for events after which the instance is gone (spot reclaim, scheduled
 * change, stop, termination), delete the NodeClaim, so the termination controller drains it within its
 * PodDisruptionBudgets before the instance-action time. An interrupted spot offering is not bought
 * again for a while. A rebalance recommendation taints the node and asks for a replacement only.
 * Calls the API server: run it off any event loop.
 */
public final class InterruptionHandler {
  private static final Logger LOG = LoggerFactory.getLogger(InterruptionHandler.class);

  /** What became of one message: the NodeClaims acted on, and the instances that are not ours. */
  public record Outcome(List<String> nodeClaims, List<String> unknownInstances) {
  }

  private final KubernetesClient client;
  private final Caches caches;
  private final CloudProvider cloud;
  private final Recorder events;

  public InterruptionHandler(KubernetesClient client, Caches caches, CloudProvider cloud, Recorder events) {
    this.client = client;
    this.caches = caches;
    this.cloud = cloud;
    this.events = events;
  }

  public Outcome handle(InterruptionMessage message) {
    if (message.kind() == InterruptionMessage.Kind.NO_OP) {
      return new Outcome(List.of(), List.of());
    }
    List<String> acted = new ArrayList<>();
    List<String> unknown = new ArrayList<>();
    for (String instanceId : message.instanceIds()) {
      Optional<NodeClaim> claim = claimOf(instanceId);
      if (claim.isEmpty()) {
        unknown.add(instanceId);
        continue;
      }
      act(message, claim.get());
      acted.add(claim.get().getMetadata().getName());
    }
    if (!unknown.isEmpty()) {
      LOG.debug("{} for instances without a NodeClaim (not launched by this cluster): {}", message.kind().messageType(), unknown);
    }
    return new Outcome(acted, unknown);
  }

  /** The NodeClaim whose provider ID ({@code aws:///<zone>/<instance id>}) names the instance. */
  Optional<NodeClaim> claimOf(String instanceId) {
    return caches.nodeClaims().stream()
        .filter(c -> c.getStatus() != null && ProviderId.parse(c.getStatus().providerID()).map(p -> p.instanceId().equals(instanceId)).orElse(false))
        .findFirst();
  }

  private void act(InterruptionMessage message, NodeClaim claim) {
    String name = claim.getMetadata().getName();
    Map<String, String> labels = claim.getMetadata().getLabels() == null ? Map.of() : claim.getMetadata().getLabels();
    Optional<Node> node = Optional.ofNullable(claim.getStatus().nodeName()).flatMap(caches::node);
    switch (message.kind()) {
      case SPOT_INTERRUPTED -> {
        if (labels.containsKey(WellKnownLabels.INSTANCE_TYPE) && labels.containsKey(WellKnownLabels.ZONE)) {
          cloud.markUnavailable(labels.get(WellKnownLabels.INSTANCE_TYPE), labels.get(WellKnownLabels.ZONE), CapacityType.SPOT.label());
        }
        NodeMarker.markNodeClaim(client, claim, NodeMarks.notice(NodeMarks.SPOT_INTERRUPTION, message.effectiveAt()));
        node.ifPresent(n -> NodeMarker.taint(client, n.getMetadata().getName(), NodeMarks.spotInterruptionTaints(message.detail()), true));
        announce(claim, node, "SpotInterrupted", "Spot interruption warning: the instance will " + message.detail() + " at "
            + message.effectiveAt() + "; replacement requested, draining");
        delete(claim, message);
      }
      case REBALANCE_RECOMMENDATION -> {
        NodeMarker.markNodeClaim(client, claim, NodeMarks.notice(NodeMarks.REBALANCE_RECOMMENDATION, message.effectiveAt()));
        node.ifPresent(n -> NodeMarker.taint(client, n.getMetadata().getName(), Map.of(DovetailLabels.REBALANCE_TAINT, "true"), false));
        announce(claim, node, "SpotRebalanceRecommendation", "EC2 recommends rebalancing this instance (elevated interruption risk): "
            + "node tainted, replacement requested");
      }
      case SCHEDULED_CHANGE -> {
        NodeMarker.markNodeClaim(client, claim, NodeMarks.notice(NodeMarks.SCHEDULED_CHANGE, message.effectiveAt()));
        node.ifPresent(n -> NodeMarker.taint(client, n.getMetadata().getName(), Map.of(WellKnownLabels.DISRUPTED_TAINT, ""), true));
        announce(claim, node, "InstanceUnhealthy", "Scheduled " + message.detail() + " from " + message.effectiveAt() + ": draining");
        delete(claim, message);
      }
      case INSTANCE_STOPPED, INSTANCE_TERMINATED -> {
        boolean stopping = message.kind() == InterruptionMessage.Kind.INSTANCE_STOPPED;
        NodeMarker.markNodeClaim(client, claim,
            NodeMarks.notice(stopping ? NodeMarks.INSTANCE_STOPPING : NodeMarks.INSTANCE_TERMINATING, message.effectiveAt()));
        node.ifPresent(n -> NodeMarker.taint(client, n.getMetadata().getName(), Map.of(WellKnownLabels.DISRUPTED_TAINT, ""), true));
        announce(claim, node, stopping ? "InstanceStopping" : "InstanceTerminating", "The instance is " + message.detail() + ": draining");
        delete(claim, message);
      }
      default -> throw new IllegalStateException("unhandled " + message.kind());
    }
    LOG.info("{} for instance of NodeClaim {} (node {}): acted", message.kind().messageType(), name, node.map(n -> n.getMetadata().getName())
        .orElse("none"));
  }

  private void announce(NodeClaim claim, Optional<Node> node, String reason, String text) {
    boolean warning = !"SpotRebalanceRecommendation".equals(reason);
    for (HasMetadata object : node.isPresent() ? List.of(claim, node.get()) : List.<HasMetadata>of(claim)) {
      if (warning) {
        events.warning(object, reason, text);
      } else {
        events.normal(object, reason, text);
      }
    }
  }

  private void delete(NodeClaim claim, InterruptionMessage message) {
    if (claim.getMetadata().getDeletionTimestamp() == null) {
      client.resources(NodeClaim.class).withName(claim.getMetadata().getName()).delete();
      LOG.info("deleting NodeClaim {} ({}): the termination controller drains it", claim.getMetadata().getName(), message.kind().messageType());
    }
  }
}
