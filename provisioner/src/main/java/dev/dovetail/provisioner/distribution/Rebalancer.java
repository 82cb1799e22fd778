package dev.dovetail.provisioner.distribution;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.config.v1alpha1.PodEvictor;
import dev.dovetail.api.config.v1alpha1.ReplacementWindow;
import dev.dovetail.api.disruption.Drain;
import dev.dovetail.api.disruption.ReplacementWindows;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.cluster.Caches;
import dev.dovetail.provisioner.provisioning.Templates;
import dev.dovetail.runtime.Recorder;
import dev.dovetail.state.Rebalancing;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Robust distribution (F18), built in rather than left to a descheduler: every pass, the replicas
 * {@link Rebalancing} finds on the side of the split their rule wants fewer on are evicted through the
 * Eviction API (so PodDisruptionBudgets hold), one per workload, at most the pod evictor's
 * {@code maxEvictions}; their successors are placed by the same distribution decision, on the type the
 * rule now wants. It runs only with the ClusterOrchestratorConfig's pod evictor on (Harness turns robust
 * distribution on with bin-packing), inside the replacement window's pod-eviction operation, never for a pod
 * with {@code karpenter.sh/do-not-disrupt}, for a single-replica workload unless {@code evictSingleReplicas},
 * or when no NodePool can launch the capacity type the replica should move to. Each move is an Event on
 * the pod and on its rule naming the rule and the split.
 */
public final class Rebalancer {
  private static final Logger LOG = LoggerFactory.getLogger(Rebalancer.class);
  /**
   * How often a pass runs (the descheduler Harness uses runs every two minutes; a pass here moves one
   * replica per settled workload, so it may look more often).
   */
  public static final Duration PERIOD = Duration.ofSeconds(15);

  private final Caches caches;
  private final KubernetesClient evictions;
  private final Recorder events;
  private final MeterRegistry registry;
  private final Set<String> exemptNamespaces;
  private final Clock clock;
  private final Supplier<Optional<PodEvictor>> evictor;
  private final Supplier<Optional<ReplacementWindow>> window;
  /** Pods already told no NodePool launches the type they should move to (told once while it lasts). */
  private final Set<String> blocked = new HashSet<>();

  /**
   * @param evictions a client that does not retry (a refused eviction is the answer, not a failure)
   * @param evictor the ClusterOrchestratorConfig's pod evictor when it is on
   * @param window the replacement window in force, if any
   */
  public Rebalancer(Caches caches, KubernetesClient evictions, Recorder events, MeterRegistry registry, Set<String> exemptNamespaces,
      Clock clock, Supplier<Optional<PodEvictor>> evictor, Supplier<Optional<ReplacementWindow>> window) {
    this.caches = caches;
    this.evictions = evictions;
    this.events = events;
    this.registry = registry;
    this.exemptNamespaces = Set.copyOf(exemptNamespaces);
    this.clock = clock;
    this.evictor = evictor;
    this.window = window;
  }

  /** One pass: the replicas it evicted. */
  public int rebalance() {
    Optional<PodEvictor> rules = evictor.get().filter(e -> Boolean.TRUE.equals(e.enabled()));
    if (!caches.synced() || rules.isEmpty()) {
      return 0;
    }
    Instant now = clock.instant();
    List<Rebalancing.Move> moves = Rebalancing.moves(caches.view(), caches.pods(), exemptNamespaces, p -> !Drain.doNotDisrupt(p, now));
    if (moves.isEmpty()) {
      return 0;
    }
    Optional<String> closed = window.get().flatMap(w -> ReplacementWindows.closed(w, Set.of(ReplacementWindows.Operation.POD_EVICTION), now));
    if (closed.isPresent()) {
      LOG.info("robust distribution: {} replicas to move wait for the replacement window: {}", moves.size(), closed.get());
      return 0;
    }
    blocked.retainAll(moves.stream().map(m -> m.pod().getMetadata().getUid()).toList());
    int left = rules.get().maxEvictions() == null ? 20 : rules.get().maxEvictions();
    boolean singles = Boolean.TRUE.equals(rules.get().evictSingleReplicas());
    int evicted = 0;
    for (Rebalancing.Move move : moves) {
      if (left == 0) {
        break;
      }
      Pod pod = move.pod();
      if (move.targets().total() <= 1 && !singles) {
        continue;
      }
      if (!launchable(move.to())) {
        if (blocked.add(pod.getMetadata().getUid())) {
          events.warning(pod, "RebalanceBlocked", "No NodePool launches " + move.to().label() + " capacity: " + move.message());
        }
        continue;
      }
      if (evict(pod)) {
        evicted++;
        left--;
        LOG.info("robust distribution: {}", move.message());
        events.normal(pod, "Rebalanced", move.message());
        caches.view().ruleObjects().stream().filter(r -> r.getMetadata().getName().equals(move.rule())).findFirst()
            .ifPresent(r -> events.normal(r, "Rebalanced", move.message()));
        Counter.builder("dovetail.distribution.rebalanced").description("Replicas evicted to bring their workload's split back to its rule.")
            .tag("rule", move.rule()).tag("to", move.to().label()).register(registry).increment();
      }
    }
    return evicted;
  }

  /** Whether some NodePool's requirements allow the capacity type. */
  private boolean launchable(CapacityType type) {
    return caches.nodePools().stream().anyMatch(p -> Templates.requirements(p).get(WellKnownLabels.CAPACITY_TYPE)
        .map(r -> r.allows(type.label())).orElse(true));
  }

  private boolean evict(Pod pod) {
    String name = pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
    try {
      boolean ok = evictions.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName()).evict();
      if (!ok) {
        LOG.info("robust distribution: evicting {} refused (its PodDisruptionBudget allows no disruption now)", name);
      }
      return ok;
    } catch (KubernetesClientException e) {
      LOG.info("robust distribution: evicting {} failed: {}", name, e.getMessage());
      return false;
    }
  }
}
