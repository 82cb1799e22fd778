package dev.dovetail.api.scheduling;

import io.fabric8.kubernetes.api.model.Taint;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Why the simulation could place a pod nowhere, typed: what kube-scheduler users read in the
 * {@code FailedScheduling} event ({@link #message}), and a coarse {@link #category} for metrics, from the
 * reason itself rather than from words in its message.
 */
public sealed interface Unschedulable {
  /** What the pod's event says. */
  String message();

  /** The metric label: {@code limits}, {@code taints}, {@code topology}, {@code no_nodepool}, {@code resources} or {@code requirements}. */
  Category category();

  /** Coarse reasons, in the order a reason naming several pools is labelled by (the first that any pool has). */
  enum Category {
    LIMITS("limits"), TAINTS("taints"), TOPOLOGY("topology"), NO_NODEPOOL("no_nodepool"), RESOURCES("resources"), REQUIREMENTS("requirements");

    private final String label;

    Category(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  /** No NodePool could make a node for the pod (none is ready, or none was tried). */
  record NoNodePool(boolean noneReady) implements Unschedulable {
    @Override
    public String message() {
      return noneReady ? "no NodePool is ready to launch nodes" : "no NodePool can launch a node for it";
    }

    @Override
    public Category category() {
      return Category.NO_NODEPOOL;
    }
  }

  /** The pod's own requirements (with those its topology or volumes add) leave no value for some key. */
  record Contradiction(Requirements requirements) implements Unschedulable {
    @Override
    public String message() {
      return "its requirements contradict each other: " + requirements;
    }

    @Override
    public Category category() {
      return Category.REQUIREMENTS;
    }
  }

  /** The pod's scheduling constraints could not be read (a malformed quantity, selector or affinity). */
  record Unreadable(String problem) implements Unschedulable {
    @Override
    public String message() {
      return "its scheduling constraints could not be read: " + problem;
    }

    @Override
    public Category category() {
      return Category.REQUIREMENTS;
    }
  }

  /** Every ready NodePool turned the pod down, each for its own reason. */
  record Rejected(List<PoolRejection> pools) implements Unschedulable {
    public Rejected {
      pools = List.copyOf(pools);
    }

    @Override
    public String message() {
      return pools.stream().map(PoolRejection::message).collect(Collectors.joining("; "));
    }

    @Override
    public Category category() {
      return pools.stream().map(PoolRejection::category).min(Comparator.naturalOrder()).orElse(Category.NO_NODEPOOL);
    }
  }

  /** Why one NodePool cannot take the pod. */
  sealed interface PoolRejection {
    String nodePool();

    String message();

    Category category();
  }

  /** The pool has as many nodes as its {@code limits.nodes} allows. */
  record NodesLimit(String nodePool) implements PoolRejection {
    @Override
    public String message() {
      return "NodePool " + nodePool + " reached its nodes limit";
    }

    @Override
    public Category category() {
      return Category.LIMITS;
    }
  }

  /** The pod does not tolerate one of the pool's taints. */
  record Untolerated(String nodePool, Taint taint) implements PoolRejection {
    @Override
    public String message() {
      return "did not tolerate taint " + taint.getKey() + (taint.getValue() == null ? "" : "=" + taint.getValue()) + ":" + taint.getEffect()
          + " of NodePool " + nodePool;
    }

    @Override
    public Category category() {
      return Category.TAINTS;
    }
  }

  /** The pod's requirements and the pool's do not meet. */
  record Incompatible(String nodePool, Requirements.Conflict conflict) implements PoolRejection {
    @Override
    public String message() {
      return "NodePool " + nodePool + ": " + conflict.message();
    }

    @Override
    public Category category() {
      return Category.REQUIREMENTS;
    }
  }

  /** No zone or host the pool offers satisfies the pod's topology spread or pod (anti-)affinity. */
  record NoTopologyDomain(String nodePool) implements PoolRejection {
    @Override
    public String message() {
      return "NodePool " + nodePool + ": no topology domain satisfies its spread or affinity constraints";
    }

    @Override
    public Category category() {
      return Category.TOPOLOGY;
    }
  }

  /** No instance type of the pool fits the pod's requests and requirements ({@code limited}: some would, but not within the pool's limits). */
  record NoFittingType(String nodePool, boolean limited, Resources requests, Resources daemonOverhead, Requirements requirements)
      implements PoolRejection {
    @Override
    public String message() {
      return "NodePool " + nodePool + ": no instance type " + (limited ? "within its limits " : "") + "has an available offering that fits "
          + "requests " + requests.amounts() + " plus daemon overhead " + daemonOverhead.amounts() + " and requirements " + requirements;
    }

    @Override
    public Category category() {
      return limited ? Category.LIMITS : Category.RESOURCES;
    }
  }

  /** The instance types that fit offer fewer values of a key than its {@code minValues} asks. */
  record MinValuesUnmet(String nodePool, String key, int found, int required) implements PoolRejection {
    @Override
    public String message() {
      return "NodePool " + nodePool + ": minValues of " + key + " not met: " + found + " of " + required;
    }

    @Override
    public Category category() {
      return Category.RESOURCES;
    }
  }
}
