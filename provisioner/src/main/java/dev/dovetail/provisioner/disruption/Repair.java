package dev.dovetail.provisioner.disruption;

import dev.dovetail.provisioner.nodeclaim.NodeClaims;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.Predicate;

/**
 * Karpenter's node repair (feature gate {@code NodeRepair}): a node whose condition has been unhealthy for
 * longer than the repair policy tolerates — AWS's: {@code Ready} False or Unknown for 30 minutes, the
 * node monitoring agent's {@code AcceleratedHardwareReady} False for 10, {@code StorageReady},
 * {@code NetworkingReady}, {@code KernelReady} or {@code ContainerRuntimeReady} False for 30 — has its
 * NodeClaim deleted at once, outside budgets, with {@code karpenter.sh/nodeclaim-termination-timestamp}
 * set to now so the drain does not wait (its pods are deleted and go pending like any others). When more
 * than 20 % of a pool's nodes are unhealthy the trouble is not the nodes: repair of that pool waits and
 * says so.
 */
public final class Repair implements Method {
  /** A node condition in an unhealthy status, tolerated this long. */
  public record Policy(String condition, String status, Duration toleration) {
  }

  /** AWS's repair policies (karpenter-provider-aws), in the order they are checked. */
  public static final List<Policy> AWS = List.of(
      new Policy("Ready", "False", Duration.ofMinutes(30)),
      new Policy("Ready", "Unknown", Duration.ofMinutes(30)),
      new Policy("AcceleratedHardwareReady", "False", Duration.ofMinutes(10)),
      new Policy("StorageReady", "False", Duration.ofMinutes(30)),
      new Policy("NetworkingReady", "False", Duration.ofMinutes(30)),
      new Policy("KernelReady", "False", Duration.ofMinutes(30)),
      new Policy("ContainerRuntimeReady", "False", Duration.ofMinutes(30)));

  /** Above this share of unhealthy nodes in a pool, repair of the pool waits. */
  static final double MAX_UNHEALTHY_SHARE = 0.2;

  private final List<Policy> policies;
  private final BiConsumer<Candidate, String> blocked;
  /** The pass's count per pool: nodes, and nodes with an unhealthy condition (tolerated yet or not). */
  private Map<String, int[]> health = Map.of();

  /** @param blocked told about each node whose repair waits, and why */
  public Repair(List<Policy> policies, BiConsumer<Candidate, String> blocked) {
    this.policies = List.copyOf(policies);
    this.blocked = blocked;
  }

  @Override
  public Reason reason() {
    return Reason.UNHEALTHY;
  }

  @Override
  public boolean forceful() {
    return true;
  }

  @Override
  public void beginPass(List<Candidate> claims, Instant now) {
    Map<String, int[]> counts = new HashMap<>();
    for (Candidate c : claims) {
      if (c.node().isEmpty() || NodeClaims.deleting(c.claim())) {
        continue;
      }
      int[] n = counts.computeIfAbsent(c.nodePool(), k -> new int[2]);
      n[0]++;
      if (matching(c.node().get(), since -> true).isPresent()) {
        n[1]++;
      }
    }
    health = counts;
  }

  @Override
  public boolean shouldDisrupt(Candidate c, Instant now) {
    return c.node().isPresent() && !NodeClaims.deleting(c.claim()) && unhealthy(c.node().get(), now).isPresent();
  }

  @Override
  public List<Command> computeCommands(Budgets budgets, List<Candidate> candidates, Instant now) {
    Map<String, List<Candidate>> byPool = new LinkedHashMap<>();
    candidates.forEach(c -> byPool.computeIfAbsent(c.nodePool(), k -> new ArrayList<>()).add(c));
    List<Candidate> repaired = new ArrayList<>();
    byPool.forEach((pool, unhealthy) -> {
      int[] n = health.getOrDefault(pool, new int[] {unhealthy.size(), unhealthy.size()});
      if (n[0] > 0 && (double) n[1] / n[0] > MAX_UNHEALTHY_SHARE) {
        unhealthy.forEach(c -> blocked.accept(c, String.format("Node repair of NodePool %s waits: %d of its %d nodes are unhealthy (more than %.0f%%)",
            pool, n[1], n[0], MAX_UNHEALTHY_SHARE * 100)));
      } else {
        repaired.addAll(unhealthy);
      }
    });
    return repaired.isEmpty() ? List.of() : List.of(Command.delete(Reason.UNHEALTHY, repaired));
  }

  /** The first policy the node breaks past its toleration at {@code now}. */
  public Optional<Policy> unhealthy(Node node, Instant now) {
    return matching(node, since -> since.isPresent() && !since.get().isAfter(now));
  }

  /** The first policy whose condition the node shows in the unhealthy status, since a time {@code when} accepts (less the toleration). */
  private Optional<Policy> matching(Node node, Predicate<Optional<Instant>> when) {
    List<NodeCondition> conditions = node.getStatus() == null || node.getStatus().getConditions() == null ? List.of()
        : node.getStatus().getConditions();
    for (Policy p : policies) {
      for (NodeCondition c : conditions) {
        if (p.condition().equals(c.getType()) && p.status().equals(c.getStatus()) && when.test(since(c).map(t -> t.plus(p.toleration())))) {
          return Optional.of(p);
        }
      }
    }
    return Optional.empty();
  }

  private static Optional<Instant> since(NodeCondition c) {
    try {
      return Optional.ofNullable(c.getLastTransitionTime()).map(Instant::parse);
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }
}
