package dev.dovetail.api.scheduling;

import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** Kubernetes' toleration matching. {@code PreferNoSchedule} taints never block a pod. */
public final class Tolerations {
  private Tolerations() {
  }

  public static boolean tolerates(Toleration t, Taint taint) {
    if (t.getEffect() != null && !t.getEffect().isEmpty() && !t.getEffect().equals(taint.getEffect())) {
      return false;
    }
    if (t.getKey() == null || t.getKey().isEmpty()) {
      return "Exists".equals(t.getOperator());
    }
    if (!t.getKey().equals(taint.getKey())) {
      return false;
    }
    return "Exists".equals(t.getOperator()) || Objects.equals(emptyIfNull(t.getValue()), emptyIfNull(taint.getValue()));
  }

  /** The first taint that blocks scheduling and that no toleration matches, if any. */
  public static Optional<Taint> firstUntolerated(List<Toleration> tolerations, List<Taint> taints) {
    if (taints == null) {
      return Optional.empty();
    }
    for (Taint taint : taints) {
      if ("PreferNoSchedule".equals(taint.getEffect())) {
        continue;
      }
      boolean tolerated = false;
      if (tolerations != null) {
        for (Toleration t : tolerations) {
          if (tolerates(t, taint)) {
            tolerated = true;
            break;
          }
        }
      }
      if (!tolerated) {
        return Optional.of(taint);
      }
    }
    return Optional.empty();
  }

  private static String emptyIfNull(String s) {
    return s == null ? "" : s;
  }
}
