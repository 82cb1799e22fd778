package dev.dovetail.provisioner.disruption;

import dev.dovetail.api.disruption.Drain;
import dev.dovetail.api.disruption.ReplacementWindows;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.provisioner.nodeclaim.NodeClaims;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Emptiness, Karpenter's first graceful method and part of every consolidation policy: Consolidatable
 * claims whose node runs no pod that would need a new home (DaemonSet, mirror and finished pods do
 * not count) are deleted together in one command, as many per NodePool as its {@code Empty} budget
 * allows, oldest first. A node with {@code karpenter.sh/do-not-disrupt: "true"}, or that the last
 * provisioning pass planned pods on, is left alone.
 */
public final class Emptiness implements Method {
  private final Predicate<String> nominated;

  /** @param nominated whether pending pods were just planned on this claim (they are on their way; the node is not idle) */
  public Emptiness(Predicate<String> nominated) {
    this.nominated = nominated;
  }

  @Override
  public Reason reason() {
    return Reason.EMPTY;
  }

  @Override
  public String consolidationType() {
    return "empty";
  }

  /** Consolidation (and, when pods move, pod eviction) waits for the replacement window. */
  @Override
  public Set<ReplacementWindows.Operation> windows() {
    return Set.of(ReplacementWindows.Operation.CONSOLIDATION);
  }

  @Override
  public boolean forceful() {
    return false;
  }

  @Override
  public boolean shouldDisrupt(Candidate candidate, Instant now) {
    return candidate.node().isPresent() && !NodeClaims.deleting(candidate.claim())
        && NodeClaims.isTrue(candidate.claim(), ConditionTypes.CONSOLIDATABLE)
        && candidate.moving().isEmpty()
        && !doNotDisrupt(candidate) && !nominated.test(candidate.name());
  }

  @Override
  public List<Command> computeCommands(Budgets budgets, List<Candidate> candidates, Instant now) {
    List<Candidate> sorted = new ArrayList<>(candidates);
    sorted.sort(Comparator.comparing((Candidate c) -> String.valueOf(c.claim().getMetadata().getCreationTimestamp())).thenComparing(Candidate::name));
    Map<String, Integer> taken = new HashMap<>();
    List<Candidate> chosen = new ArrayList<>();
    for (Candidate c : sorted) {
      int used = taken.getOrDefault(c.nodePool(), 0);
      if (used < budgets.allowed(c.nodePool(), Reason.EMPTY)) {
        taken.put(c.nodePool(), used + 1);
        chosen.add(c);
      }
    }
    return chosen.isEmpty() ? List.of() : List.of(Command.delete(Reason.EMPTY, chosen));
  }

  /** {@code karpenter.sh/do-not-disrupt: "true"} on the node or the claim. */
  static boolean doNotDisrupt(Candidate candidate) {
    return candidate.node().map(n -> n.getMetadata().getAnnotations()).map(a -> "true".equals(a.get(Drain.DO_NOT_DISRUPT))).orElse(false)
        || "true".equals(NodeClaims.annotation(candidate.claim(), Drain.DO_NOT_DISRUPT));
  }
}
