package dev.dovetail.provisioner.kube;

import dev.dovetail.api.common.Condition;
import io.fabric8.kubernetes.api.model.Node;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Status conditions as Kubernetes tools expect them: one per type, and {@code lastTransitionTime}
 * moves only when the status does.
 */
public final class Conditions {
  private Conditions() {
  }

  public static Optional<Condition> get(List<Condition> conditions, String type) {
    return conditions == null ? Optional.empty() : conditions.stream().filter(c -> c.type().equals(type)).findFirst();
  }

  public static boolean isTrue(List<Condition> conditions, String type) {
    return get(conditions, type).map(Condition::isTrue).orElse(false);
  }

  /** Whether the node reports {@code Ready=True}. */
  public static boolean nodeReady(Node node) {
    return node.getStatus() != null && node.getStatus().getConditions() != null
        && node.getStatus().getConditions().stream().anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  /** The list with {@code type} set; the transition time is kept when the status does not change. */
  public static List<Condition> set(List<Condition> conditions, String type, Condition.Status status, String reason, String message,
      long generation, Instant now) {
    List<Condition> out = new ArrayList<>();
    boolean found = false;
    Condition fresh = Condition.of(type, status, reason, message, generation, now);
    if (conditions != null) {
      for (Condition c : conditions) {
        if (c.type().equals(type)) {
          found = true;
          out.add(c.status() == status ? new Condition(type, status, generation, c.lastTransitionTime(), fresh.reason(), fresh.message()) : fresh);
        } else {
          out.add(c);
        }
      }
    }
    if (!found) {
      out.add(fresh);
    }
    return out;
  }

  public static List<Condition> remove(List<Condition> conditions, String type) {
    return conditions == null ? List.of() : conditions.stream().filter(c -> !c.type().equals(type)).toList();
  }
}
