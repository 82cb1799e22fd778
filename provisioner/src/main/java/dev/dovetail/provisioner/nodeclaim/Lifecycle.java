package dev.dovetail.provisioner.nodeclaim;

import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.provisioner.cloud.CloudProvider;
import dev.dovetail.provisioner.cluster.Caches;
import dev.dovetail.provisioner.controller.Reconciliation;
import dev.dovetail.provisioner.controller.Result;
import dev.dovetail.provisioner.kube.Writer;
import dev.dovetail.provisioner.metrics.KarpenterMetrics;
import dev.dovetail.runtime.Recorder;
import io.fabric8.kubernetes.api.model.Node;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A NodeClaim's way to a Ready node, as Karpenter's lifecycle controller runs it: named steps in order —
 * the termination finalizer first (nothing is launched that could leak), then {@link Liveness} (give up
 * on claims that cannot make it), {@link Launch}, {@link Registration}, {@link Initialization} and
 * {@link Consolidation} (the {@code Consolidatable} condition) —
 * each writing only what changed and handing the claim as written to the next, until one has to wait.
 * {@code Ready} rolls up the three conditions. Claims being deleted are the termination controller's.
 */
public final class Lifecycle {
  public static final Duration REGISTRATION_TTL = Duration.ofMinutes(15);

  /** What the lifecycle needs besides the cloud and the caches. */
  public record Settings(Duration registrationTtl, ReleaseGate gate) {
  }

  private final Caches caches;
  private final List<Step> steps;

  /**
   * @param cloud           answers on the provisioner's executor (see {@link dev.dovetail.provisioner.cloud.OnExecutor}): the steps
   *                        write to the API server from what they chain on its answers
   * @param capacityChanged called when a claim goes away without a node (its pods need new capacity)
   */
  public Lifecycle(Caches caches, CloudProvider cloud, Writer writer, Recorder events, KarpenterMetrics metrics, Clock clock,
      Runnable capacityChanged, Settings settings) {
    this.caches = caches;
    Deletions deletions = new Deletions(writer, events, metrics, capacityChanged);
    this.steps = List.of(
        finalizer(writer),
        new Liveness(cloud, deletions, settings.registrationTtl(), clock),
        new Launch(caches, cloud, writer, events, metrics, deletions, clock),
        new Registration(writer, events, metrics, settings.gate(), settings.registrationTtl(), clock),
        new Initialization(writer, metrics, clock),
        new DriftDetection(caches, writer, clock),
        new Consolidation(caches, writer, clock));
  }

  public CompletionStage<Result> reconcile(String name, Reconciliation context) {
    Optional<NodeClaim> cached = caches.nodeClaim(name);
    if (cached.isEmpty() || NodeClaims.deleting(cached.get())) {
      return Result.done();
    }
    NodeClaim claim = cached.get();
    Optional<Node> node = NodeClaims.providerId(claim).flatMap(caches::nodeByProviderId);
    // As Karpenter's, a NodeClaim's lines carry its NodePool and, once there is one, its Node.
    Reconciliation ctx = context.with("NodePool", NodeClaims.pool(claim)).with("Node", node.map(n -> n.getMetadata().getName())
        .orElse(claim.getStatus() == null ? null : claim.getStatus().nodeName()));
    CompletionStage<Step.Outcome> chain = Step.Outcome.next(new Step.State(claim, node));
    for (Step step : steps) {
      chain = chain.thenCompose(outcome -> outcome.stop().isPresent() ? CompletableFuture.completedFuture(outcome)
          : step.reconcile(outcome.state(), ctx));
    }
    return chain.thenApply(outcome -> outcome.stop().orElse(Result.DONE));
  }

  /** The termination finalizer goes on before anything is launched (a claim made by hand may lack it). */
  private static Step finalizer(Writer writer) {
    return (state, context) -> {
      NodeClaim claim = state.claim();
      List<String> finalizers = claim.getMetadata().getFinalizers() == null ? List.of() : claim.getMetadata().getFinalizers();
      if (finalizers.contains(NodeClaims.TERMINATION_FINALIZER)) {
        return Step.Outcome.next(state);
      }
      List<String> next = new ArrayList<>(finalizers);
      next.add(NodeClaims.TERMINATION_FINALIZER);
      NodeClaim patched = writer.patchMetadata(NodeClaim.class, claim.getMetadata().getName(),
          Map.of("finalizers", next, "resourceVersion", claim.getMetadata().getResourceVersion()));
      return Step.Outcome.next(state.withClaim(patched));
    };
  }
}
