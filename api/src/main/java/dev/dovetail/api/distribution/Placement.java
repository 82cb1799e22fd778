package dev.dovetail.api.distribution;

import dev.dovetail.api.catalog.CapacityType;
import java.util.Optional;
import java.util.Set;

/**
 * The capacity types a workload's next replica may use, the one it should use, and why.
 *
 * @param allowed capacity types whose nodes keep the workload on its rule (never empty)
 * @param preferred the type to launch when no node of an allowed type exists; empty when the pod is not governed
 * @param targets the split the decision aims for (for the replica count after this one is placed)
 * @param reason one line a user can read in {@code kubectl describe pod}
 */
public record Placement(Set<CapacityType> allowed, Optional<CapacityType> preferred, Targets targets, String reason) {
  private static final Set<CapacityType> ANY = Set.of(CapacityType.values());

  public Placement {
    allowed = Set.copyOf(allowed);
    if (allowed.isEmpty()) {
      throw new IllegalArgumentException("a placement must allow at least one capacity type");
    }
  }

  /** A pod the distribution does not govern: any capacity type. */
  public static Placement unconstrained(String reason) {
    return new Placement(ANY, Optional.empty(), new Targets(0, 0), reason);
  }

  public boolean governed() {
    return preferred.isPresent();
  }

  public boolean allows(CapacityType type) {
    return allowed.contains(type);
  }
}
