package dev.dovetail.interruption;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dovetail.api.disruption.Drain;
import dev.dovetail.api.disruption.DrainPod;
import dev.dovetail.interruption.kube.DrainView;
import dev.dovetail.interruption.kube.KubeApi;
import dev.dovetail.interruption.kube.KubeApiException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Empties the node through the Eviction API, in Karpenter's tiers (workloads, then DaemonSet pods,
 * then critical pods), so PodDisruptionBudgets hold. A refused eviction (429) is tried again on the next
 * round. Past the deadline (the instance-action time less a margin), what is left is deleted: the
 * instance is going away regardless, and a clean exit beats a cut one.
 */
final class Drainer {
  private static final Logger LOG = LoggerFactory.getLogger(Drainer.class);

  /** One round's outcome: pods still waited for, and evictions refused in it. */
  record Round(int remaining, int refused, int deletedPastDeadline) {
  }

  private final KubeApi api;
  private final KubeApi evictions;
  private final String nodeName;
  private final Clock clock;

  Drainer(KubeApi api, String nodeName, Clock clock) {
    this.api = api;
    // A 429 (refused by a PodDisruptionBudget) is an answer to try again next round, not a fault to retry here.
    this.evictions = api.withRetry(KubeApi.Retry.NONE);
    this.nodeName = nodeName;
    this.clock = clock;
  }

  List<DrainPod> remaining() {
    List<DrainPod> out = new ArrayList<>();
    for (var json : api.list("/api/v1/pods?fieldSelector=" + KubeApi.query("spec.nodeName=" + nodeName))) {
      DrainPod p = DrainView.pod(json);
      if (Drain.drainable(p)) {
        out.add(p);
      }
    }
    return out;
  }

  Round round(Optional<Instant> deadline) {
    List<DrainPod> pods = remaining();
    if (pods.isEmpty()) {
      return new Round(0, 0, 0);
    }
    int deleted = 0;
    if (deadline.isPresent() && !clock.instant().isBefore(deadline.get())) {
      for (DrainPod p : pods) {
        if (p.deletionTimestamp() == null) {
          LOG.warn("deadline passed: deleting pod {}/{} on node {}", p.namespace(), p.name(), nodeName);
          try {
            api.delete(podPath(p) + "?gracePeriodSeconds=1");
            deleted++;
          } catch (KubeApiException e) {
            if (!e.notFound()) {
              LOG.warn("deleting pod {}/{} failed: {}", p.namespace(), p.name(), e.getMessage());
            }
          }
        }
      }
      return new Round(pods.size(), 0, deleted);
    }
    int lowest = pods.stream().mapToInt(Drain::tier).min().orElse(0);
    int refused = 0;
    for (DrainPod p : pods) {
      if (Drain.tier(p) != lowest || p.deletionTimestamp() != null) {
        continue;
      }
      if (!evict(p)) {
        refused++;
      }
    }
    return new Round(pods.size(), refused, 0);
  }

  /** True when the pod is evicted or already gone; false when the eviction was refused (429) or failed. */
  private boolean evict(DrainPod pod) {
    try {
      evictions.post(podPath(pod) + "/eviction", eviction(pod.namespace(), pod.name()));
      return true;
    } catch (KubeApiException e) {
      if (e.status() == 429) {
        return false;
      }
      if (e.notFound() || e.conflict()) {
        return true;
      }
      LOG.warn("evicting pod {}/{} failed: {}", pod.namespace(), pod.name(), e.getMessage());
      return false;
    }
  }

  static ObjectNode eviction(String namespace, String name) {
    var body = JsonNodeFactory.instance.objectNode().put("apiVersion", "policy/v1").put("kind", "Eviction");
    body.putObject("metadata").put("name", name).put("namespace", namespace);
    return body;
  }

  private static String podPath(DrainPod p) {
    return "/api/v1/namespaces/" + KubeApi.segment(p.namespace()) + "/pods/" + KubeApi.segment(p.name());
  }
}
