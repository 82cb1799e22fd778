package dev.dovetail.provisioner.disruption;

/**
 * Why consolidation leaves a node alone, as Karpenter words it in its {@code Unconsolidatable} events.
 * The reason is typed so tests and metrics can tell them apart; {@link #message()} is what the user reads.
 */
public sealed interface Unconsolidatable {
  String message();

  /** A pod of the candidates would find no room anywhere else. */
  record PodWouldNotSchedule(String pod, String why) implements Unconsolidatable {
    @Override
    public String message() {
      return "not all pods would schedule, " + pod + " => " + why;
    }
  }

  /** Moving the pods would take more than one new node: commands replace many with one, never one with many. */
  record MoreThanOneReplacement(int replacements) implements Unconsolidatable {
    @Override
    public String message() {
      return "can't remove without creating " + replacements + " candidates";
    }
  }

  /** Every instance type the pods would fit costs at least what the candidates cost now. */
  record NoCheaperReplacement(double price) implements Unconsolidatable {
    @Override
    public String message() {
      return String.format("can't replace with a cheaper node (now $%.4f/h)", price);
    }
  }

  /** All candidates are spot, the replacement would be spot, and spot-to-spot consolidation is off. */
  record SpotToSpotDisabled() implements Unconsolidatable {
    @Override
    public String message() {
      return "SpotToSpotConsolidation is disabled, can't replace a spot node with a spot node";
    }
  }

  /** A single spot node would be replaced by spot with fewer cheaper types than the floor (a race to the bottom). */
  record TooFewCheaperSpotTypes(int found, int needed) implements Unconsolidatable {
    @Override
    public String message() {
      return "SpotToSpotConsolidation requires " + needed + " cheaper instance type options than the current candidate to consolidate, got "
          + found;
    }
  }

  /** A pod must not be moved now: {@code karpenter.sh/do-not-disrupt}, or a PodDisruptionBudget. */
  record PodBlocked(String pod, String why) implements Unconsolidatable {
    @Override
    public String message() {
      return "pod " + pod + " " + why;
    }
  }

  /** The node's price cannot be told (unknown instance type, zone or capacity type), so savings cannot be. */
  record PriceUnknown() implements Unconsolidatable {
    @Override
    public String message() {
      return "the node's price is unknown";
    }
  }

  /** {@code Balanced}: the move saves too small a share of the pool's cost for the share of its disruption it causes. */
  record NotWorthTheDisruption(double savingsShare, double disruptionShare) implements Unconsolidatable {
    @Override
    public String message() {
      return String.format("consolidationPolicy Balanced: saves %.1f%% of the pool's cost for %.1f%% of its disruption cost (needs at least half)",
          100 * savingsShare, 100 * disruptionShare);
    }
  }

  /** Pod evictor (managed pools): the node's pods request too much of it to call it under-used. */
  record AboveUtilizationThreshold(int cpuPercent, int memoryPercent, int minimumCpu, int minimumMemory) implements Unconsolidatable {
    @Override
    public String message() {
      return "pods request " + cpuPercent + "% of the node's CPU and " + memoryPercent + "% of its memory; the pod evictor consolidates only below "
          + minimumCpu + "% CPU and " + minimumMemory + "% memory";
    }
  }

  /** Pod evictor (managed pools): a pod is its workload's only replica, and single replicas are not evicted. */
  record SingleReplica(String pod) implements Unconsolidatable {
    @Override
    public String message() {
      return "pod " + pod + " is its workload's only replica and consolidation.podEvictor.evictSingleReplicas is off";
    }
  }

  /** Pod evictor (managed pools): moving the node's pods would take more evictions than a pass may make. */
  record TooManyEvictions(int pods, int maxEvictions) implements Unconsolidatable {
    @Override
    public String message() {
      return "moving its " + pods + " pods would exceed consolidation.podEvictor.maxEvictions (" + maxEvictions + ")";
    }
  }
}
