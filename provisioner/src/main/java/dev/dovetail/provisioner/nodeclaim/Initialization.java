package dev.dovetail.provisioner.nodeclaim;

import dev.dovetail.api.common.Condition;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.karpenter.v1.WellKnownTaints;
import dev.dovetail.api.scheduling.Resources;
import dev.dovetail.provisioner.controller.Reconciliation;
import dev.dovetail.provisioner.controller.Result;
import dev.dovetail.provisioner.kube.Conditions;
import dev.dovetail.provisioner.kube.Writer;
import dev.dovetail.provisioner.metrics.KarpenterMetrics;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Taint;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Initialization ({@code Initialized}): the registered node is Ready, has no startup or start-up-phase
 * taints left and has registered every resource the claim was launched with; then it is labelled
 * {@code karpenter.sh/initialized}.
 */
final class Initialization implements Step {
  private static final Logger LOG = LoggerFactory.getLogger(Initialization.class);
  /** How soon a node that is not initialized is looked at again (its own events bring it sooner). */
  private static final Duration RECHECK = Duration.ofSeconds(30);

  private final Writer writer;
  private final KarpenterMetrics metrics;
  private final Clock clock;

  Initialization(Writer writer, KarpenterMetrics metrics, Clock clock) {
    this.writer = writer;
    this.metrics = metrics;
    this.clock = clock;
  }

  @Override
  public CompletionStage<Outcome> reconcile(State state, Reconciliation context) {
    NodeClaim claim = state.claim();
    if (NodeClaims.isTrue(claim, ConditionTypes.INITIALIZED) || state.node().isEmpty()) {
      return Outcome.next(state);
    }
    Node node = state.node().get();
    Optional<String> waiting = notInitialized(claim, node);
    if (waiting.isPresent()) {
      Optional<Condition> current = Conditions.get(NodeClaims.conditions(claim), ConditionTypes.INITIALIZED);
      NodeClaim written = claim;
      if (current.isEmpty() || !waiting.get().equals(current.get().message())) {
        written = writer.writeStatus(claim, NodeClaims.withCondition(claim, ConditionTypes.INITIALIZED, Condition.Status.Unknown,
            "NotInitialized", waiting.get(), clock.instant()));
      }
      return Outcome.stop(state.withClaim(written), Result.after(RECHECK));
    }
    writer.patchMetadata(Node.class, node.getMetadata().getName(), Map.of("labels", Map.of(WellKnownLabels.INITIALIZED, "true")));
    NodeClaim written = writer.writeStatus(claim, NodeClaims.withCondition(claim, ConditionTypes.INITIALIZED, Condition.Status.True,
        "Initialized", "", clock.instant()));
    metrics.nodeClaimInitialized(NodeClaims.pool(claim));
    context.atInfo(LOG).log("NodeClaim {} initialized (node {})", claim.getMetadata().getName(), node.getMetadata().getName());
    return Outcome.next(state.withClaim(written));
  }

  /** Why the node is not initialized yet: not Ready, startup or start-up-phase taints left, resources not registered. */
  static Optional<String> notInitialized(NodeClaim claim, Node node) {
    boolean ready = Conditions.nodeReady(node);
    if (!ready) {
      return Optional.of("node is not Ready");
    }
    List<Taint> taints = node.getSpec() == null || node.getSpec().getTaints() == null ? List.of() : node.getSpec().getTaints();
    for (Taint t : taints) {
      if (WellKnownTaints.isEphemeral(t.getKey())) {
        return Optional.of("node has taint " + t.getKey());
      }
      if (claim.getSpec().startupTaints() != null && claim.getSpec().startupTaints().stream()
          .anyMatch(s -> s.key().equals(t.getKey()) && s.effect().name().equals(t.getEffect()))) {
        return Optional.of("startup taint " + t.getKey() + " is still on the node");
      }
    }
    if (claim.getStatus() != null && claim.getStatus().capacity() != null && node.getStatus().getAllocatable() != null) {
      Resources allocatable = Resources.of(node.getStatus().getAllocatable());
      Resources capacity = Resources.of(claim.getStatus().capacity());
      for (String resource : claim.getStatus().capacity().keySet()) {
        if (allocatable.get(resource) == 0 && capacity.get(resource) > 0) {
          return Optional.of("resource " + resource + " is not registered on the node");
        }
      }
    }
    return Optional.empty();
  }
}
