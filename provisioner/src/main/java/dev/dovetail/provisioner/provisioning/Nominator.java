package dev.dovetail.provisioner.provisioning;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.distribution.PodFacts;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeClaimStatus;
import dev.dovetail.provisioner.cluster.Caches;
import dev.dovetail.provisioner.controller.Reconciliation;
import dev.dovetail.provisioner.kube.Writer;
import dev.dovetail.provisioner.nodeclaim.NodeClaims;
import dev.dovetail.provisioner.nodeclaim.ReleaseGate;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The provisioner's plan meets kube-scheduler when a launched node registers: the pods planned for the
 * node are nominated to it (or, under topology spread, hinted at the launch group's planned nodes; see
 * {@link Nominations}), and the nodes of one launch group are released together, at most
 * {@code launchGroupWait} after their claims were made: released one by one, the first nodes would take
 * pods planned for the others, and zone spread would count only the zones already up. When a node
 * initializes, planned pods that lost their nomination meanwhile get it back.
 */
public final class Nominator implements ReleaseGate {
  private static final Logger LOG = LoggerFactory.getLogger(Nominator.class);
  /** How soon a claim whose launch group still has nodes to come looks again (their registration wakes it sooner). */
  static final Duration GROUP_POLL = Duration.ofMillis(500);
  /** How soon a claim waiting for its group's nominations looks again (the last nomination wakes it sooner). */
  static final Duration NOMINATION_POLL = Duration.ofMillis(50);

  private final Caches caches;
  private final Writer writer;
  private final Nominations nominations;
  private final Duration launchGroupWait;
  private final Clock clock;
  private volatile Consumer<String> groupReleased = c -> { };

  public Nominator(Caches caches, Writer writer, Nominations nominations, Duration launchGroupWait, Clock clock) {
    this.caches = caches;
    this.writer = writer;
    this.nominations = nominations;
    this.launchGroupWait = launchGroupWait;
    this.clock = clock;
  }

  /** Where the claims of a launch group go when it is released (the lifecycle controller's queue). */
  public void onGroupReleased(Consumer<String> requeue) {
    this.groupReleased = requeue;
  }

  @Override
  public Optional<Duration> holdBeforeRelease(NodeClaim claim, Node node, Reconciliation context) {
    Optional<String> waiting = launchGroupPending(claim);
    if (waiting.isPresent()) {
      context.atDebug(LOG).log("holding node {} back: {}", node.getMetadata().getName(), waiting.get());
      return Optional.of(GROUP_POLL);
    }
    nominate(claim, node.getMetadata().getName(), context);
    String group = NodeClaims.annotation(claim, DovetailLabels.LAUNCH_GROUP);
    if (!nominations.groupNominated(group) && withinGroupWait(claim)) {
      context.atDebug(LOG).log("holding node {} back until the pods of its launch group are nominated", node.getMetadata().getName());
      return Optional.of(NOMINATION_POLL);
    }
    return Optional.empty();
  }

  @Override
  public void initialized(NodeClaim claim, Node node, Reconciliation context) {
    renominate(claim, node.getMetadata().getName(), context);
  }

  private boolean withinGroupWait(NodeClaim claim) {
    return NodeClaims.age(claim, clock.instant()).compareTo(launchGroupWait) < 0;
  }

  /** Why the claim's launch group is not ready to be released: claims of the group whose nodes have not appeared. */
  private Optional<String> launchGroupPending(NodeClaim claim) {
    String group = NodeClaims.annotation(claim, DovetailLabels.LAUNCH_GROUP);
    if (group == null || !withinGroupWait(claim)) {
      return Optional.empty();
    }
    long pending = caches.launchGroup(group).stream()
        .filter(c -> !c.getMetadata().getName().equals(claim.getMetadata().getName()) && !NodeClaims.deleting(c))
        .filter(c -> NodeClaims.providerId(c).flatMap(caches::nodeByProviderId).isEmpty())
        .count();
    return pending == 0 ? Optional.empty() : Optional.of(pending + " NodeClaims launched with it have no node yet");
  }

  /**
   * Points the pods planned for this claim at its node before the node takes pods: kube-scheduler
   * then tries that node first for them and keeps their room there while placing others. Pods under
   * topology spread get the planned-node hint the extender ranks by instead (see {@link Nominations.PodRef}).
   */
  private void nominate(NodeClaim claim, String nodeName, Reconciliation context) {
    int nominated = 0;
    for (Nominations.Guidance guidance : nominations.take(claim.getMetadata().getName())) {
      Nominations.PodRef ref = guidance.pod();
      Optional<Pod> pod = caches.pod(ref.namespace(), ref.name());
      if (pod.isEmpty() || !ref.uid().equals(pod.get().getMetadata().getUid()) || pod.get().getMetadata().getDeletionTimestamp() != null
          || (pod.get().getSpec() != null && pod.get().getSpec().getNodeName() != null)) {
        continue;
      }
      try {
        // The hint first: changing the pod's metadata sends it back to the scheduling queue, where an attempt
        // before the node is released would clear a nomination already made.
        String planned = PodFacts.plannedNodesAnnotation(plannedNodes(guidance.plannedClaims(), claim.getMetadata().getName(), nodeName));
        writer.patchPod(ref.namespace(), ref.name(), Map.of("metadata", Map.of("annotations", Map.of(DovetailLabels.PLANNED_NODES, planned))));
        if (!ref.spread()) {
          writer.patchPodStatus(ref.namespace(), ref.name(), Map.of("nominatedNodeName", nodeName));
        }
        nominations.podReleased(ref.uid(), System.nanoTime());
        nominated++;
      } catch (KubernetesClientException e) {
        context.atDebug(LOG).log("pod {}/{} not nominated to {}: {}", ref.namespace(), ref.name(), nodeName, e.getMessage());
      }
    }
    Set<String> released = nominations.nominated(claim.getMetadata().getName());
    // The last claim of a launch group to have its pods nominated wakes the others at once, so the
    // group's nodes are untainted within moments of each other.
    released.forEach(c -> groupReleased.accept(c));
    if (nominated > 0) {
      context.atDebug(LOG).log("nominated {} pods to node {}", nominated, nodeName);
    }
  }

  /** Nominates again the claim's planned pods that are still pending and lost their nomination. */
  private void renominate(NodeClaim claim, String nodeName, Reconciliation context) {
    int again = 0;
    for (Nominations.PodRef ref : nominations.takeReleased(claim.getMetadata().getName())) {
      Optional<Pod> pod = caches.pod(ref.namespace(), ref.name());
      if (pod.isEmpty() || !ref.uid().equals(pod.get().getMetadata().getUid()) || pod.get().getSpec().getNodeName() != null
          || pod.get().getMetadata().getDeletionTimestamp() != null
          || (pod.get().getStatus() != null && pod.get().getStatus().getNominatedNodeName() != null
              && !pod.get().getStatus().getNominatedNodeName().isEmpty())) {
        continue;
      }
      try {
        writer.patchPodStatus(ref.namespace(), ref.name(), Map.of("nominatedNodeName", nodeName));
        again++;
      } catch (KubernetesClientException e) {
        context.atDebug(LOG).log("pod {}/{} not nominated again to {}: {}", ref.namespace(), ref.name(), nodeName, e.getMessage());
      }
    }
    if (again > 0) {
      context.atDebug(LOG).log("nominated {} pods again to node {}", again, nodeName);
    }
  }

  /** The nodes of the given claims (this one's is known; the others' through their provider IDs), with the counts. */
  private Map<String, Integer> plannedNodes(Map<String, Integer> claims, String self, String selfNode) {
    Map<String, Integer> out = new TreeMap<>();
    claims.forEach((name, count) -> {
      if (name.equals(self)) {
        out.put(selfNode, count);
      } else {
        caches.nodeClaim(name).map(NodeClaim::getStatus).map(NodeClaimStatus::providerID).flatMap(caches::nodeByProviderId)
            .ifPresent(n -> out.put(n.getMetadata().getName(), count));
      }
    });
    return out;
  }
}
