package dev.dovetail.provisioner.disruption;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.disruption.Drain;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.cloud.CloudProvider;
import dev.dovetail.provisioner.nodeclaim.NodeClaims;
import dev.dovetail.provisioner.provisioning.Provisioner;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replacement ahead of an interruption: the pods of a node whose NodeClaim carries a notice (the
 * interrupt listener's or the queue's {@code dovetail.dev/interruption}: spot interruption, rebalance
 * recommendation, scheduled change, stop) get capacity elsewhere now, while the node drains, rather than
 * after. Their room on the doomed node does not count (it is tainted). An interrupted spot offering is
 * left alone for a while, so the replacement goes to another pool, or to on-demand as the rule allows.
 * The candidate itself is taken away by whoever acts on the notice (the agent drains it, the queue
 * handler deletes it, or the cloud reclaims it): this method only launches.
 */
public final class Interruption implements Method {
  private static final Logger LOG = LoggerFactory.getLogger(Interruption.class);

  private final CloudProvider cloud;
  private final Provisioner provisioner;
  private final Set<String> schedulerNames;
  /** Claims whose interrupted spot offering was marked unavailable, so it is marked once; pruned to the claims that still exist. */
  private final Set<String> marked = ConcurrentHashMap.newKeySet();

  public Interruption(CloudProvider cloud, Provisioner provisioner, Set<String> schedulerNames) {
    this.cloud = cloud;
    this.provisioner = provisioner;
    this.schedulerNames = Set.copyOf(schedulerNames);
  }

  @Override
  public Reason reason() {
    return Reason.INTERRUPTED;
  }

  @Override
  public boolean forceful() {
    return true;
  }

  @Override
  public boolean shouldDisrupt(Candidate candidate, Instant now) {
    return NodeClaims.annotation(candidate.claim(), DovetailLabels.INTERRUPTION) != null && candidate.claim().getStatus() != null
        && candidate.claim().getStatus().nodeName() != null;
  }

  @Override
  public List<Command> computeCommands(Budgets budgets, List<Candidate> candidates, Instant now) {
    marked.retainAll(candidates.stream().map(Candidate::name).collect(Collectors.toSet()));
    List<Pod> displaced = new ArrayList<>();
    for (Candidate c : candidates) {
      String notice = NodeClaims.annotation(c.claim(), DovetailLabels.INTERRUPTION);
      String type = NodeClaims.label(c.claim(), WellKnownLabels.INSTANCE_TYPE);
      String zone = NodeClaims.label(c.claim(), WellKnownLabels.ZONE);
      if (notice.startsWith("spot-interruption") && !type.isEmpty() && !zone.isEmpty() && marked.add(c.name())) {
        cloud.markUnavailable(type, zone, CapacityType.SPOT.label());
        LOG.info("NodeClaim {} is being interrupted ({}): launching for its pods now; {} spot in {} skipped for a while", c.name(), notice,
            type, zone);
      }
      c.pods().stream().filter(this::displaced).forEach(displaced::add);
    }
    if (displaced.isEmpty()) {
      return List.of();
    }
    return List.of(new Command(Reason.INTERRUPTED, candidates, Optional.of(provisioner.simulate(displaced)), false));
  }

  /** A pod that will need a new home: not leaving already, not a DaemonSet's or mirror pod, and one of our schedulers'. */
  private boolean displaced(Pod p) {
    String scheduler = p.getSpec().getSchedulerName() == null ? "default-scheduler" : p.getSpec().getSchedulerName();
    return p.getMetadata().getDeletionTimestamp() == null && Drain.drainable(p) && Drain.tier(p) % 2 == 0 && schedulerNames.contains(scheduler);
  }

  /** Claims whose offering has been marked (for tests). */
  int marked() {
    return marked.size();
  }
}
