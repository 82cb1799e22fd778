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
    return tolerates(t.getKey(), t.getOperator(), t.getValue(), t.getEffect(), taint.getKey(), taint.getValue(), taint.getEffect());
  }

  /** Whether a toleration (key, operator, value, effect as in a pod spec) matches a taint, for callers without the fabric8 model. */
  public static boolean tolerates(String key, String operator, String value, String effect, String taintKey, String taintValue,
      String taintEffect) {
    if (effect != null && !effect.isEmpty() && !effect.equals(taintEffect)) {
      return false;
    }
    if (key == null || key.isEmpty()) {
      return "Exists".equals(operator);
    }
    if (!key.equals(taintKey)) {
      return false;
    }
    return "Exists".equals(operator) || Objects.equals(emptyIfNull(value), emptyIfNull(taintValue));
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
