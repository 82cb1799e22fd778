package dev.dovetail.provisioner.cloud;

import dev.dovetail.api.common.Condition;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * An EC2NodeClass's status conditions, as Karpenter sets them: one per resolved part
 * ({@code SubnetsReady}, {@code SecurityGroupsReady}, {@code AMIsReady}, {@code InstanceProfileReady},
 * {@code ValidationSucceeded}), then {@code Ready}, true when they all are and naming those that are not.
 */
public final class NodeClassConditions {
  /** One part: its condition type, the reason when it fails, and the problem if there is one. */
  public record Part(String type, String failureReason, Optional<String> problem) {
    public static Part ok(String type) {
      return new Part(type, type, Optional.empty());
    }

    public static Part failed(String type, String reason, String problem) {
      return new Part(type, reason, Optional.of(problem));
    }
  }

  private NodeClassConditions() {
  }

  public static List<Condition> of(long generation, Instant now, List<Part> parts) {
    List<Condition> conditions = new ArrayList<>();
    List<String> notReady = new ArrayList<>();
    for (Part p : parts) {
      boolean ok = p.problem().isEmpty();
      conditions.add(Condition.of(p.type(), Condition.Status.of(ok), ok ? p.type() : p.failureReason(), p.problem().orElse(""), generation, now));
      if (!ok) {
        notReady.add(p.type());
      }
    }
    conditions.add(Condition.of(ConditionTypes.READY, Condition.Status.of(notReady.isEmpty()), notReady.isEmpty() ? "Ready" : "UnhealthyDependents",
        notReady.isEmpty() ? "" : String.join(", ", notReady) + " not ready", generation, now));
    return conditions;
  }
}
