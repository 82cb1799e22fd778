package dev.dovetail.provisioner.provisioning;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.provisioner.cluster.Caches;
import dev.dovetail.provisioner.controller.Reconciliation;
import dev.dovetail.provisioner.nodeclaim.NodeClaims;
import dev.dovetail.provisioner.nodeclaim.ReleaseGate;
import io.fabric8.kubernetes.api.model.Node;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The nodes of one provisioning pass (a launch group) are released to the scheduler together, once all
 * of them have appeared, and at most {@code launchGroupWait} after their claims were made: released one
 * by one, topology spread would count only the zones already up (kube-scheduler measures skew over the
 * nodes that exist), and the first nodes would take pods the pass planned for the others. Nothing is
 * written for the pods themselves: kube-scheduler places them, and the provisioner's next pass counts the
 * room it planned on the claims and nodes, so it launches again only for what does not fit.
 */
public final class LaunchGroups implements ReleaseGate {
  private static final Logger LOG = LoggerFactory.getLogger(LaunchGroups.class);
  /** How soon a claim whose launch group still has nodes to come looks again (its own node's events bring it sooner). */
  static final Duration GROUP_POLL = Duration.ofMillis(500);

  private final Caches caches;
  private final Duration launchGroupWait;
  private final Clock clock;

  public LaunchGroups(Caches caches, Duration launchGroupWait, Clock clock) {
    this.caches = caches;
    this.launchGroupWait = launchGroupWait;
    this.clock = clock;
  }

  @Override
  public Optional<Duration> holdBeforeRelease(NodeClaim claim, Node node, Reconciliation context) {
    Optional<String> waiting = pending(claim);
    if (waiting.isPresent()) {
      context.atDebug(LOG).log("holding node {} back: {}", node.getMetadata().getName(), waiting.get());
      return Optional.of(GROUP_POLL);
    }
    return Optional.empty();
  }

  /** Why the claim's launch group is not ready to be released: claims of the group whose nodes have not appeared. */
  private Optional<String> pending(NodeClaim claim) {
    String group = NodeClaims.annotation(claim, DovetailLabels.LAUNCH_GROUP);
    if (group == null || NodeClaims.age(claim, clock.instant()).compareTo(launchGroupWait) >= 0) {
      return Optional.empty();
    }
    long pending = caches.launchGroup(group).stream()
        .filter(c -> !c.getMetadata().getName().equals(claim.getMetadata().getName()) && !NodeClaims.deleting(c))
        .filter(c -> NodeClaims.providerId(c).flatMap(caches::nodeByProviderId).isEmpty())
        .count();
    return pending == 0 ? Optional.empty() : Optional.of(pending + " NodeClaims launched with it have no node yet");
  }
}
