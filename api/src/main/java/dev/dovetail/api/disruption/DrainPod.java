package dev.dovetail.api.disruption;

import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A pod as the {@link Drain} rules read it: the few fields they look at, as plain values, so a component
 * without the fabric8 model (the per-node agent reads the API server's JSON) asks the same rules.
 *
 * @param daemonSet whether a DaemonSet controls it
 * @param deletionTimestamp set once the pod is terminating
 * @param startTime when it started, if it did (status.startTime)
 * @param terminationGracePeriodSeconds its spec's, or null when unset (Kubernetes then gives it 30 s)
 */
public record DrainPod(String namespace, String name, String deletionTimestamp, Map<String, String> annotations, boolean daemonSet,
    String priorityClassName, List<Toleration> tolerations, String phase, String startTime, String creationTimestamp,
    Long terminationGracePeriodSeconds) {

  /** A toleration, as in the pod spec. */
  public record Toleration(String key, String operator, String value, String effect) {
  }

  public DrainPod {
    annotations = annotations == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(annotations));
    tolerations = tolerations == null ? List.of() : List.copyOf(tolerations);
  }

  /** Kubernetes' default termination grace period. */
  public static final Duration DEFAULT_GRACE = Duration.ofSeconds(30);

  /** How long the pod may take to stop once asked: its termination grace period, or Kubernetes' default. */
  public Duration grace() {
    return terminationGracePeriodSeconds == null ? DEFAULT_GRACE : Duration.ofSeconds(Math.max(0, terminationGracePeriodSeconds));
  }

  /** The drain's view of a fabric8 pod. */
  public static DrainPod of(Pod pod) {
    var meta = pod.getMetadata();
    List<OwnerReference> owners = meta.getOwnerReferences() == null ? List.of() : meta.getOwnerReferences();
    boolean daemonSet = owners.stream().anyMatch(r -> "DaemonSet".equals(r.getKind()) && Boolean.TRUE.equals(r.getController()));
    var spec = pod.getSpec();
    List<Toleration> tolerations = spec == null || spec.getTolerations() == null ? List.of()
        : spec.getTolerations().stream().map(t -> new Toleration(t.getKey(), t.getOperator(), t.getValue(), t.getEffect())).toList();
    var status = pod.getStatus();
    return new DrainPod(meta.getNamespace(), meta.getName(), meta.getDeletionTimestamp(), meta.getAnnotations(), daemonSet,
        spec == null ? null : spec.getPriorityClassName(), tolerations, status == null ? null : status.getPhase(),
        status == null ? null : status.getStartTime(), meta.getCreationTimestamp(), spec == null ? null : spec.getTerminationGracePeriodSeconds());
  }
}
