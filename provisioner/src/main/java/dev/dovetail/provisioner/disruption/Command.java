package dev.dovetail.provisioner.disruption;

import dev.dovetail.provisioner.provisioning.Provisioner;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What one method decided for some candidates: launch replacements for their pods (a plan from the
 * provisioner's simulation), delete the candidates, or both — replacements first, so their capacity is on
 * its way before the candidates drain.
 *
 * @param deleteCandidates false when something else takes the candidates away (an interruption's notice
 *     handler, the cloud reclaiming the instance) and only their pods' new home is this command's business
 */
public record Command(Reason reason, List<Candidate> candidates, Optional<Provisioner.Plan> replacements, boolean deleteCandidates) {
  /** What a command comes to. */
  public enum Decision {
    NO_OP,
    /** Delete the candidates; their pods go pending and get capacity the usual way. */
    DELETE,
    /** Launch replacements, then delete the candidates. */
    REPLACE,
    /** Launch replacements only. */
    LAUNCH;

    /** Karpenter's {@code decision} label of {@code karpenter_voluntary_disruption_decisions_total}: delete, replace. */
    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public Command {
    candidates = List.copyOf(candidates);
  }

  public static Command delete(Reason reason, List<Candidate> candidates) {
    return new Command(reason, candidates, Optional.empty(), true);
  }

  public Decision decision() {
    boolean launches = replacements.isPresent() && !replacements.get().solution().newClaims().isEmpty();
    if (candidates.isEmpty() || !launches && !deleteCandidates) {
      return Decision.NO_OP;
    }
    if (!launches) {
      return Decision.DELETE;
    }
    return deleteCandidates ? Decision.REPLACE : Decision.LAUNCH;
  }
}
