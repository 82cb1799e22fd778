package dev.dovetail.provisioner.disruption;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.disruption.Drain;
import dev.dovetail.api.interruption.NodeMarks;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.cloud.CloudProvider;
import dev.dovetail.provisioner.nodeclaim.NodeClaims;
import dev.dovetail.provisioner.provisioning.Provisioner;
import dev.dovetail.provisioner.provisioning.Simulator;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
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
 * handler deletes it, or the cloud reclaims it): this method only launches. Once every displaced pod of a
 * candidate has room on a Ready node (its replacement Initialized, or room there already), the claim is
 * annotated {@link NodeMarks#REPLACEMENT_READY}: the drain, which holds its evictions until then (or until its
 * latest start), goes ahead, and the pods move without waiting pending for a node to boot.
 */
public final class Interruption implements Method {
  private static final Logger LOG = LoggerFactory.getLogger(Interruption.class);

  private final CloudProvider cloud;
  private final Provisioner provisioner;
  private final Set<String> schedulerNames;
  /** Claims whose interrupted spot offering was marked unavailable, so it is marked once; pruned to the claims that still exist. */
  private final Set<String> marked = ConcurrentHashMap.newKeySet();

  private final Consumer<String> replacementReady;
  /** Claims said to have their replacement ready, so it is said once; pruned to the claims that still exist. */
  private final Set<String> ready = ConcurrentHashMap.newKeySet();

  /** @param replacementReady annotates the claim of this name {@link NodeMarks#REPLACEMENT_READY} */
  public Interruption(CloudProvider cloud, Provisioner provisioner, Set<String> schedulerNames, Consumer<String> replacementReady) {
    this.cloud = cloud;
    this.provisioner = provisioner;
    this.schedulerNames = Set.copyOf(schedulerNames);
    this.replacementReady = replacementReady;
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
    Set<String> names = candidates.stream().map(Candidate::name).collect(Collectors.toSet());
    marked.retainAll(names);
    ready.retainAll(names);
    List<Pod> displaced = new ArrayList<>();
    Map<String, List<Pod>> displacedBy = new HashMap<>();
    Set<String> gone = new HashSet<>(names);
    for (Candidate c : candidates) {
      String notice = NodeClaims.annotation(c.claim(), DovetailLabels.INTERRUPTION);
      String type = NodeClaims.label(c.claim(), WellKnownLabels.INSTANCE_TYPE);
      String zone = NodeClaims.label(c.claim(), WellKnownLabels.ZONE);
      if (notice.startsWith("spot-interruption") && !type.isEmpty() && !zone.isEmpty() && marked.add(c.name())) {
        cloud.markUnavailable(type, zone, CapacityType.SPOT.label());
        LOG.info("NodeClaim {} is being interrupted ({}): launching for its pods now; {} spot in {} skipped for a while", c.name(), notice,
            type, zone);
      }
      c.node().ifPresent(n -> gone.add(n.getMetadata().getName()));
      List<Pod> own = c.pods().stream().filter(this::displaced).toList();
      displacedBy.put(c.name(), own);
      displaced.addAll(own);
    }
    // Simulated as pods looking for capacity (they may fall back to on-demand), not as pods moving off a node, which keep
    // their capacity type; the doomed nodes hold nothing, whether or not the caches show their cordon yet.
    Simulator simulator = provisioner.simulator();
    Provisioner.Plan plan = simulator.simulateDisplaced(displaced, gone);
    for (Candidate c : candidates) {
      if (!ready.contains(c.name()) && NodeClaims.annotation(c.claim(), NodeMarks.REPLACEMENT_READY) == null
          && displacedBy.get(c.name()).stream().allMatch(p -> onReadyNode(plan, simulator, p, gone))) {
        try {
          replacementReady.accept(c.name());
          ready.add(c.name());
          LOG.info("NodeClaim {} is being interrupted: its pods have Ready room elsewhere; its drain may go ahead", c.name());
        } catch (RuntimeException e) {
          // The next pass says it again; until then the drain waits, at most to its latest start.
          LOG.warn("could not mark NodeClaim {} {}: {}", c.name(), NodeMarks.REPLACEMENT_READY, e.toString());
        }
      }
    }
    if (displaced.isEmpty()) {
      return List.of();
    }
    return List.of(new Command(Reason.INTERRUPTED, candidates, Optional.of(plan), false));
  }

  /**
   * The simulation placed the pod on a node that takes pods now (Initialized: not a claim in flight, not a new one;
   * the same test consolidation makes), and not on one of the doomed nodes (whose cordon the cache may not show yet).
   */
  private static boolean onReadyNode(Provisioner.Plan plan, Simulator simulator, Pod p, Set<String> gone) {
    String target = plan.solution().onExistingNodes().get(p.getMetadata().getUid());
    return target != null && !gone.contains(target) && simulator.initialized(target);
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
