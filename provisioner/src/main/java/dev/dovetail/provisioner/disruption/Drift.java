package dev.dovetail.provisioner.disruption;

import dev.dovetail.api.common.Condition;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.scheduling.NewClaim;
import dev.dovetail.provisioner.kube.Conditions;
import dev.dovetail.provisioner.nodeclaim.NodeClaims;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Karpenter's drift method, after emptiness: claims whose {@code Drifted} condition is True (their pool's
 * template or requirements, or their node class or AMI, changed) are replaced within their pool's
 * {@code Drifted} budget. Drifted nodes that run nothing to move are deleted together; otherwise one node
 * a pass, longest drifted first, once the simulation finds room for all its pods elsewhere or on new
 * claims (as many as they need: drift is about matching the spec, not saving). Replacements go first,
 * as for consolidation. {@code do-not-disrupt} and PodDisruptionBudgets on pods hold a node back unless
 * its claim has a {@code terminationGracePeriod}, which bounds the drain anyway.
 */
public final class Drift implements Method {
  private final Consolidator consolidator;
  private final Consolidator.Inputs inputs;

  /** @param consolidator whose simulation (one read of the cluster a pass) places a drifted node's pods */
  public Drift(Consolidator consolidator) {
    this.consolidator = consolidator;
    this.inputs = consolidator.inputs();
  }

  @Override
  public void beginPass(List<Candidate> claims, Instant now) {
    consolidator.freshView();
  }

  @Override
  public Reason reason() {
    return Reason.DRIFTED;
  }

  @Override
  public boolean forceful() {
    return false;
  }

  @Override
  public boolean shouldDisrupt(Candidate c, Instant now) {
    if (consolidator.outOfReach(c) || !NodeClaims.isTrue(c.claim(), ConditionTypes.DRIFTED)
        || !NodeClaims.isTrue(c.claim(), ConditionTypes.INITIALIZED)) {
      return false;
    }
    return c.claim().getSpec().terminationGracePeriod() != null || Consolidator.podBlocker(c, inputs.disruptionBudgets(), now).isEmpty();
  }

  @Override
  public List<Command> computeCommands(Budgets budgets, List<Candidate> candidates, Instant now) {
    List<Candidate> sorted = new ArrayList<>(candidates);
    sorted.sort(Comparator.comparing(Drift::driftedSince).thenComparing(Candidate::name));
    Map<String, Integer> taken = new HashMap<>();
    List<Candidate> empty = new ArrayList<>();
    for (Candidate c : sorted) {
      int used = taken.getOrDefault(c.nodePool(), 0);
      if (Consolidator.moving(c).isEmpty() && used < budgets.allowed(c.nodePool(), Reason.DRIFTED)) {
        taken.put(c.nodePool(), used + 1);
        empty.add(c);
      }
    }
    if (!empty.isEmpty()) {
      return List.of(Command.delete(Reason.DRIFTED, empty));
    }
    for (Candidate c : sorted) {
      if (budgets.allowed(c.nodePool(), Reason.DRIFTED) <= 0) {
        continue;
      }
      Optional<Command> command = replace(c);
      if (command.isPresent()) {
        return List.of(command.get());
      }
    }
    return List.of();
  }

  /** The candidate's pods placed without it: delete when they fit as things are, replace when they need new claims, nothing when one fits nowhere. */
  private Optional<Command> replace(Candidate c) {
    Consolidator.Rehoming rehoming = consolidator.rehome(List.of(c));
    if (!rehoming.allPlaced()) {
      return Optional.empty();
    }
    List<NewClaim> claims = rehoming.claims();
    if (claims.isEmpty()) {
      return Optional.of(Command.delete(Reason.DRIFTED, List.of(c)));
    }
    return Optional.of(new Command(Reason.DRIFTED, List.of(c), Optional.of(Consolidator.only(rehoming.plan(), claims)), true));
  }

  private static String driftedSince(Candidate c) {
    return Conditions.get(NodeClaims.conditions(c.claim()), ConditionTypes.DRIFTED).map(Condition::lastTransitionTime).orElse("");
  }
}
