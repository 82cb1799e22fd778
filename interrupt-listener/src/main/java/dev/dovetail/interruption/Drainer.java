package dev.dovetail.interruption;

import dev.dovetail.api.disruption.Drain;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Instant;
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

  private final KubernetesClient client;
  private final KubernetesClient evictions;
  private final String nodeName;
  private final Clock clock;

  /** @param evictions a client that does not retry refused requests itself (a 429 is an answer, not a fault) */
  Drainer(KubernetesClient client, KubernetesClient evictions, String nodeName, Clock clock) {
    this.client = client;
    this.evictions = evictions;
    this.nodeName = nodeName;
    this.clock = clock;
  }

  List<Pod> remaining() {
    return client.pods().inAnyNamespace().withField("spec.nodeName", nodeName).list().getItems().stream().filter(Drain::drainable).toList();
  }

  Round round(Optional<Instant> deadline) {
    List<Pod> pods = remaining();
    if (pods.isEmpty()) {
      return new Round(0, 0, 0);
    }
    int deleted = 0;
    if (deadline.isPresent() && !clock.instant().isBefore(deadline.get())) {
      for (Pod p : pods) {
        if (p.getMetadata().getDeletionTimestamp() == null) {
          LOG.warn("deadline passed: deleting pod {}/{} on node {}", p.getMetadata().getNamespace(), p.getMetadata().getName(), nodeName);
          try {
            client.pods().inNamespace(p.getMetadata().getNamespace()).withName(p.getMetadata().getName()).withGracePeriod(1).delete();
            deleted++;
          } catch (KubernetesClientException e) {
            if (e.getCode() != 404) {
              LOG.warn("deleting pod {}/{} failed: {}", p.getMetadata().getNamespace(), p.getMetadata().getName(), e.getMessage());
            }
          }
        }
      }
      return new Round(pods.size(), 0, deleted);
    }
    int lowest = pods.stream().mapToInt(Drain::tier).min().orElse(0);
    int refused = 0;
    for (Pod p : pods) {
      if (Drain.tier(p) != lowest || p.getMetadata().getDeletionTimestamp() != null) {
        continue;
      }
      if (!evict(p)) {
        refused++;
      }
    }
    return new Round(pods.size(), refused, 0);
  }

  private boolean evict(Pod pod) {
    try {
      return evictions.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName()).evict();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404 || e.getCode() == 409) {
        return true;
      }
      LOG.warn("evicting pod {}/{} failed: {}", pod.getMetadata().getNamespace(), pod.getMetadata().getName(), e.getMessage());
      return false;
    }
  }
}
