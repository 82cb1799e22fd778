package dev.dovetail.provisioner.distribution;

import dev.dovetail.api.common.Condition;
import dev.dovetail.api.distribution.RuleSet;
import dev.dovetail.api.harness.v1.WorkloadDistributionRule;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleStatus;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.provisioner.cluster.Caches;
import dev.dovetail.provisioner.kube.Conditions;
import dev.dovetail.provisioner.kube.Writer;
import dev.dovetail.state.RuleStatus;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes each WorkloadDistributionRule's status: {@code Ready} (False for a rule that an older one for
 * the same scope displaces), how many workloads it governs and where their running replicas are
 * (spot, on-demand, on-demand fallback). The extender is read-only, so the provisioner's leader reports
 * it; a status is patched only when it changed.
 */
public final class RuleStatusReporter {
  private static final Logger LOG = LoggerFactory.getLogger(RuleStatusReporter.class);
  private final Caches caches;
  private final Writer writer;
  private final Set<String> exemptNamespaces;
  private final Clock clock;

  public RuleStatusReporter(Caches caches, Writer writer, Set<String> exemptNamespaces, Clock clock) {
    this.caches = caches;
    this.writer = writer;
    this.exemptNamespaces = Set.copyOf(exemptNamespaces);
    this.clock = clock;
  }

  /** One round over every rule; failures are logged and the next round tries again. */
  public void report() {
    if (!caches.synced()) {
      return;
    }
    RuleSet rules = caches.view().rules();
    Map<String, RuleStatus.Summary> summaries = RuleStatus.summarize(caches.view(), caches.pods(), exemptNamespaces);
    for (WorkloadDistributionRule rule : caches.view().ruleObjects()) {
      String name = rule.getMetadata().getName();
      try {
        WorkloadDistributionRuleStatus next = status(rule, rules, summaries.getOrDefault(name, RuleStatus.Summary.NONE));
        if (!sameReport(rule.getStatus(), next)) {
          writer.patchStatus(WorkloadDistributionRule.class, name, next);
        }
      } catch (RuntimeException e) {
        LOG.warn("status of WorkloadDistributionRule {} not written: {}", name, e.toString());
      }
    }
  }

  WorkloadDistributionRuleStatus status(WorkloadDistributionRule rule, RuleSet rules, RuleStatus.Summary summary) {
    String name = rule.getMetadata().getName();
    Optional<RuleSet.Entry> duplicate = rules.duplicates().stream().filter(e -> e.name().equals(name)).findFirst();
    String scope = rule.getSpec().namespace() == null || rule.getSpec().namespace().isEmpty() ? "the cluster level"
        : "namespace " + rule.getSpec().namespace();
    long generation = rule.getMetadata().getGeneration() == null ? 0 : rule.getMetadata().getGeneration();
    List<Condition> previous = rule.getStatus() == null || rule.getStatus().conditions() == null ? List.of() : rule.getStatus().conditions();
    List<Condition> conditions;
    if (duplicate.isPresent()) {
      String winner = rules.winnerOver(duplicate.get()).map(RuleSet.Entry::name).orElse("another rule");
      conditions = Conditions.set(previous, ConditionTypes.READY, Condition.Status.False, "Duplicate",
          "rule " + winner + " is older and already covers " + scope + "; this rule is not in force", generation, clock.instant());
      return new WorkloadDistributionRuleStatus(generation, 0, new WorkloadDistributionRuleStatus.ReplicaCounts(0, 0, 0), conditions);
    }
    // The cluster-level rule answers for a namespace without a rule of its own ("" is none).
    boolean known = rules.forNamespace(rule.getSpec().namespace() == null ? "" : rule.getSpec().namespace()).map(RuleSet.Entry::name)
        .filter(name::equals).isPresent();
    conditions = Conditions.set(previous, ConditionTypes.READY, known ? Condition.Status.True : Condition.Status.False, known ? "InForce" : "Invalid",
        known ? "governs " + scope : "the rule could not be read; see the provisioner's log", generation, clock.instant());
    return new WorkloadDistributionRuleStatus(generation, summary.workloads().size(),
        new WorkloadDistributionRuleStatus.ReplicaCounts(summary.spot(), summary.onDemand(), summary.fallback()), conditions);
  }

  /** Equal but for the conditions' transition times (which {@link Conditions#set} keeps when nothing changed). */
  static boolean sameReport(WorkloadDistributionRuleStatus current, WorkloadDistributionRuleStatus next) {
    return current != null && Objects.equals(current.observedGeneration(), next.observedGeneration())
        && Objects.equals(current.workloads(), next.workloads()) && Objects.equals(current.replicas(), next.replicas())
        && Objects.equals(current.conditions(), next.conditions());
  }
}
