package dev.dovetail.state;

import dev.dovetail.api.distribution.Distribution;
import dev.dovetail.api.distribution.Placement;
import dev.dovetail.api.distribution.PodFacts;
import dev.dovetail.api.distribution.RuleSet;
import java.util.Optional;
import java.util.Set;

/**
 * Whether a distribution rule governs a pod and, if so, what the shared decision says about it. The
 * extender (at filter and prioritize) and the provisioner (before simulating a batch) both ask here, so
 * a pod gets the same answer from both.
 */
public final class Governance {
  private final ClusterView view;
  private final Set<String> exemptNamespaces;

  public Governance(ClusterView view, Set<String> exemptNamespaces) {
    this.view = view;
    this.exemptNamespaces = Set.copyOf(exemptNamespaces);
  }

  /** Why a pod is or is not governed. */
  public enum Verdict {
    GOVERNED,
    /** DaemonSet, mirror or system pod, or a pod that selects its capacity type itself. */
    EXEMPT,
    /** No rule covers the pod's namespace. */
    NO_RULE,
    /** The caches have not listed the cluster yet: no opinion. */
    NOT_SYNCED
  }

  /** A pod under a rule, with where its workload's replicas are and the decision for this replica. */
  public record Governed(PodFacts pod, RuleSet.Entry rule, Workload workload, WorkloadPlacement placement, Placement decision) {
  }

  /** The verdict, with the decision when the pod is governed. */
  public record Result(Verdict verdict, Optional<Governed> governed) {
    static Result not(Verdict verdict) {
      return new Result(verdict, Optional.empty());
    }
  }

  public ClusterView view() {
    return view;
  }

  /**
   * @param inFlight replicas decided but not bound yet, counted where they were decided to go
   * @param spread also count the workload's replicas per node, zone and pool (scoring needs them)
   */
  public Result govern(PodFacts pod, InFlight inFlight, boolean spread) {
    if (!view.synced()) {
      return Result.not(Verdict.NOT_SYNCED);
    }
    if (pod.exemption(exemptNamespaces).isPresent()) {
      return Result.not(Verdict.EXEMPT);
    }
    Optional<RuleSet.Entry> rule = view.rules().forNamespace(pod.namespace());
    if (rule.isEmpty()) {
      return Result.not(Verdict.NO_RULE);
    }
    Workload workload = view.workloadOf(pod);
    WorkloadPlacement placement = view.placement(workload, pod.uid(), inFlight, spread);
    Placement decision = Distribution.next(rule.get().rule(), workload.desiredReplicas(), placement.counts(), pod.statefulSetOrdinal());
    return new Result(Verdict.GOVERNED, Optional.of(new Governed(pod, rule.get(), workload, placement, decision)));
  }
}
