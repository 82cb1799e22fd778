package dev.dovetail.provisioner.nodeclaim;

import dev.dovetail.api.common.Condition;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeClaimStatus;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.karpenter.v1.WellKnownTaints;
import dev.dovetail.provisioner.controller.Reconciliation;
import dev.dovetail.provisioner.controller.Result;
import dev.dovetail.provisioner.kube.Conditions;
import dev.dovetail.provisioner.kube.Writer;
import dev.dovetail.provisioner.metrics.KarpenterMetrics;
import dev.dovetail.runtime.Recorder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.TaintBuilder;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registration ({@code Registered}): once a Node with the claim's provider ID exists, and the
 * {@link ReleaseGate} lets it go, the claim takes it over in one patch — its labels and annotations,
 * {@code karpenter.sh/registered}, its taints and startup taints (unless the node manages its own), the
 * termination finalizer and an owner reference — and the {@code karpenter.sh/unregistered} taint comes
 * off, which releases the node to the scheduler.
 */
final class Registration implements Step {
  private static final Logger LOG = LoggerFactory.getLogger(Registration.class);

  private final Writer writer;
  private final Recorder events;
  private final KarpenterMetrics metrics;
  private final ReleaseGate gate;
  private final Duration registrationTtl;
  private final Clock clock;

  Registration(Writer writer, Recorder events, KarpenterMetrics metrics, ReleaseGate gate, Duration registrationTtl, Clock clock) {
    this.writer = writer;
    this.events = events;
    this.metrics = metrics;
    this.gate = gate;
    this.registrationTtl = registrationTtl;
    this.clock = clock;
  }

  @Override
  public CompletionStage<Outcome> reconcile(State state, Reconciliation context) {
    NodeClaim claim = state.claim();
    if (NodeClaims.isTrue(claim, ConditionTypes.REGISTERED)) {
      return Outcome.next(state);
    }
    if (state.node().isEmpty()) {
      // The Node's appearance brings the claim back; until then liveness looks at the instance now and then.
      // The TTL may have run out since liveness looked (a cloud call in between): then liveness looks again now.
      Duration left = registrationTtl.minus(NodeClaims.sinceLaunched(claim, clock.instant()));
      Duration wait = left.isNegative() ? Duration.ZERO : left.compareTo(Liveness.INSTANCE_CHECK) < 0 ? left : Liveness.INSTANCE_CHECK;
      return Outcome.stop(state, Result.after(wait));
    }
    Node node = state.node().get();
    Optional<Duration> hold = gate.holdBeforeRelease(claim, node, context);
    if (hold.isPresent()) {
      return Outcome.stop(state, Result.after(hold.get()));
    }
    String nodeName = node.getMetadata().getName();
    Node synced = syncNode(claim, node);
    NodeClaimStatus before = claim.getStatus();
    List<Condition> conditions = Conditions.set(before.conditions(), ConditionTypes.REGISTERED, Condition.Status.True, "Registered", "",
        NodeClaims.generation(claim), clock.instant());
    NodeClaim written = writer.writeStatus(claim, new NodeClaimStatus(nodeName, before.providerID(), before.imageID(), before.capacity(),
        before.allocatable(), before.lastPodEventTime(), NodeClaims.rollUp(conditions, NodeClaims.generation(claim), clock.instant())));
    metrics.nodeClaimRegistered(NodeClaims.pool(claim));
    metrics.nodeCreated(NodeClaims.pool(claim), node.getMetadata().getLabels() == null ? ""
        : node.getMetadata().getLabels().getOrDefault(WellKnownLabels.ZONE, ""));
    events.normal(claim, "Registered", "Status condition transitioned, Type: Registered, Status: Unknown -> True, Reason: Registered (node "
        + nodeName + ")");
    context.atInfo(LOG).log("NodeClaim {} registered node {}", claim.getMetadata().getName(), nodeName);
    return Outcome.next(new State(written, Optional.ofNullable(synced).or(state::node)));
  }

  /**
   * Takes the Node over: the claim's labels and annotations, {@code karpenter.sh/registered}, its
   * taints (unless the node manages its own), the termination finalizer and an owner reference, and
   * the unregistered taint removed, in one patch. Returns the node as patched.
   */
  private Node syncNode(NodeClaim claim, Node node) {
    Map<String, String> labels = new LinkedHashMap<>();
    if (claim.getMetadata().getLabels() != null) {
      labels.putAll(claim.getMetadata().getLabels());
    }
    labels.put(WellKnownLabels.REGISTERED, "true");
    Map<String, String> annotations = new LinkedHashMap<>();
    if (claim.getMetadata().getAnnotations() != null) {
      annotations.putAll(claim.getMetadata().getAnnotations());
    }
    Map<String, String> nodeLabels = node.getMetadata().getLabels() == null ? Map.of() : node.getMetadata().getLabels();
    List<Taint> taints = new ArrayList<>();
    Set<String> present = new HashSet<>();
    if (node.getSpec() != null && node.getSpec().getTaints() != null) {
      for (Taint t : node.getSpec().getTaints()) {
        if (!WellKnownTaints.UNREGISTERED.equals(t.getKey())) {
          taints.add(t);
          present.add(t.getKey() + ":" + t.getEffect());
        }
      }
    }
    if (!"true".equals(nodeLabels.get(WellKnownLabels.DO_NOT_SYNC_TAINTS))) {
      var wanted = new ArrayList<>(claim.getSpec().taints() == null ? List.of() : claim.getSpec().taints());
      if (claim.getSpec().startupTaints() != null && !"true".equals(nodeLabels.get(WellKnownLabels.REGISTERED))) {
        wanted.addAll(claim.getSpec().startupTaints());
      }
      for (var t : wanted) {
        if (present.add(t.key() + ":" + t.effect().name())) {
          taints.add(new TaintBuilder().withKey(t.key()).withValue(t.value()).withEffect(t.effect().name()).build());
        }
      }
    }
    List<String> finalizers = new ArrayList<>(node.getMetadata().getFinalizers() == null ? List.of() : node.getMetadata().getFinalizers());
    if (!finalizers.contains(NodeClaims.TERMINATION_FINALIZER)) {
      finalizers.add(NodeClaims.TERMINATION_FINALIZER);
    }
    Map<String, Object> metadata = new LinkedHashMap<>();
    metadata.put("labels", labels);
    metadata.put("annotations", annotations);
    metadata.put("finalizers", finalizers);
    metadata.put("resourceVersion", node.getMetadata().getResourceVersion());
    metadata.put("ownerReferences", List.of(Map.of("apiVersion", claim.getApiVersion(), "kind", claim.getKind(),
        "name", claim.getMetadata().getName(), "uid", claim.getMetadata().getUid(), "blockOwnerDeletion", true)));
    // With the cached resourceVersion: if the node changed meanwhile, this fails and is retried.
    return writer.mergePatch(Node.class, node.getMetadata().getName(), Map.of("metadata", metadata, "spec", Map.of("taints", taints)));
  }
}
