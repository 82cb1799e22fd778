package dev.dovetail.extender.decision;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.distribution.PodFacts;
import dev.dovetail.extender.protocol.CandidateNode;
import dev.dovetail.extender.protocol.ExtenderArgs;
import dev.dovetail.extender.protocol.FilterResult;
import dev.dovetail.extender.protocol.HostPriority;
import dev.dovetail.state.ClusterView;
import dev.dovetail.state.Governance;
import dev.dovetail.state.Governance.Governed;
import dev.dovetail.state.NodeFacts;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The extender's answers. Filter narrows a governed pod to nodes of one capacity class — the one the
 * shared distribution decision prefers, else another class the rule still allows — and rejects the
 * rest with a reason a user can read; it records the decision in flight so the next replicas of a
 * burst see it. Prioritize ranks the survivors by the rule's strategy.
 */
public final class Decisions {
  private final ClusterView view;
  private final InFlightTable inFlight;
  private final Governance governance;
  private final Catalog catalog;

  public Decisions(ClusterView view, InFlightTable inFlight, Set<String> systemNamespaces, Catalog catalog) {
    this.view = view;
    this.inFlight = inFlight;
    this.governance = new Governance(view, systemNamespaces);
    this.catalog = catalog;
    view.onPodSettled(inFlight::settled);
  }

  /** Whether the caches know the pod's owners (see {@link ClusterView#ownersKnown}). */
  public boolean ownersKnown(PodFacts pod) {
    return view.ownersKnown(pod);
  }

  /** Reads the pod's owners from the API server; blocks, so never on an event loop (see {@link ClusterView#fetchOwners}). */
  public void fetchOwners(PodFacts pod) {
    view.fetchOwners(pod);
  }

  /** A filter answer and what kind of request it was. */
  public record FilterVerdict(FilterResult result, Outcome outcome) {
  }

  /** A prioritize answer and what kind of request it was. */
  public record PrioritizeVerdict(List<HostPriority> priorities, Outcome outcome) {
  }

  /** Either an outcome that leaves the pod alone, or the governed pod. */
  private record Context(Outcome outcome, Governed governed) {
  }

  /** {@code spread}: also find where the replicas are by node, zone and pool (prioritize needs it). */
  private Context govern(PodFacts pod, boolean spread) {
    Governance.Result result = governance.govern(pod, inFlight, spread);
    Outcome outcome = switch (result.verdict()) {
      case GOVERNED -> Outcome.GOVERNED;
      case EXEMPT -> Outcome.EXEMPT;
      case NO_RULE -> Outcome.NO_RULE;
      case NOT_SYNCED -> Outcome.NOT_SYNCED;
    };
    return new Context(outcome, result.governed().orElse(null));
  }

  public FilterVerdict filter(ExtenderArgs args) {
    Context context = govern(args.pod(), false);
    if (context.governed() == null) {
      return new FilterVerdict(FilterResult.all(args.nodes()), context.outcome());
    }
    Governed g = context.governed();
    // Sized up front: a large cluster sends a thousand nodes or more, and growing lists showed in profiles.
    int size = args.nodes().size();
    List<CandidateNode> neutral = new ArrayList<>(Math.min(size, 64));
    List<CandidateNode> spotPlaces = new ArrayList<>(size);
    List<CandidateNode> onDemandPlaces = new ArrayList<>(size);
    List<CandidateNode> fallbackPlaces = new ArrayList<>();
    for (CandidateNode node : args.nodes()) {
      Optional<NodeFacts> facts = facts(node);
      if (facts.isEmpty() || facts.get().capacityType().isEmpty()) {
        neutral.add(node);  // a node we know nothing about: no opinion
      } else if (facts.get().holdsSpotPlaces()) {
        (facts.get().fallback() ? fallbackPlaces : spotPlaces).add(node);
      } else {
        onDemandPlaces.add(node);
      }
    }
    // On-demand standing in for spot (fallback) holds spot places, but only while no real spot node will take the replica.
    if (spotPlaces.isEmpty()) {
      spotPlaces = fallbackPlaces;
    }
    boolean preferSpot = g.decision().preferred().orElseThrow().isSpot();
    Boolean chosenSpot = null;
    if (!(preferSpot ? spotPlaces : onDemandPlaces).isEmpty()) {
      chosenSpot = preferSpot;
    } else if (g.decision().allows(preferSpot ? CapacityType.ON_DEMAND : CapacityType.SPOT)
        && !(preferSpot ? onDemandPlaces : spotPlaces).isEmpty()) {
      chosenSpot = !preferSpot;
    }
    List<CandidateNode> passed = new ArrayList<>(size);
    passed.addAll(neutral);
    if (chosenSpot != null) {
      passed.addAll(chosenSpot ? spotPlaces : onDemandPlaces);
      inFlight.decided(g.pod().uid(), g.workload().key(), chosenSpot);
    } else {
      inFlight.forget(g.pod().uid());
    }
    // Reasons reach the user only when nothing passes (the pod's FailedScheduling event); when a node
    // passes, the rejected ones are simply left out, which keeps replies small on large clusters.
    Map<String, String> rejected = Map.of();
    if (passed.isEmpty()) {
      String need = preferSpot ? "spot" : "on-demand";
      String onSpot = reason(g, need, "spot");
      String onOnDemand = reason(g, need, "on-demand");
      rejected = new LinkedHashMap<>();
      for (CandidateNode n : spotPlaces) {
        rejected.put(n.name(), onSpot);
      }
      for (CandidateNode n : onDemandPlaces) {
        rejected.put(n.name(), onOnDemand);
      }
    }
    Outcome outcome = passed.isEmpty() ? Outcome.NO_FITTING_NODE : Outcome.GOVERNED;
    return new FilterVerdict(new FilterResult(passed, Map.of(), rejected, ""), outcome);
  }

  private static String reason(Governed g, String need, String node) {
    return "dovetail: " + g.workload().key() + " needs " + need + " capacity for this replica, node is " + node
        + " (" + g.decision().reason() + "; rule " + g.rule().name() + ")";
  }

  public PrioritizeVerdict prioritize(ExtenderArgs args) {
    Context context = govern(args.pod(), true);
    List<HostPriority> out = new ArrayList<>(args.nodes().size());
    if (context.governed() == null) {
      for (int i = 0; i < args.nodes().size(); i++) {
        out.add(new HostPriority(args.nodes().get(i).name(), 0));
      }
      return new PrioritizeVerdict(out, context.outcome());
    }
    Governed g = context.governed();
    List<NodeFacts> facts = new ArrayList<>(args.nodes().size());
    for (CandidateNode n : args.nodes()) {
      facts.add(facts(n).orElse(null));
    }
    int[] scores = Scoring.scores(g.rule().rule().strategy(), facts, view::requested, g.placement());
    int best = -1;
    for (int i = 0; i < scores.length; i++) {
      out.add(new HostPriority(args.nodes().get(i).name(), scores[i]));
      if (facts.get(i) != null && (best < 0 || scores[i] > scores[best])) {
        best = i;
      }
    }
    if (best >= 0) {
      inFlight.ranked(g.pod().uid(), args.nodes().get(best).name());
    }
    return new PrioritizeVerdict(out, Outcome.GOVERNED);
  }

  /** From the cache; in full-node mode a node the cache has not seen yet is read from its labels. */
  private Optional<NodeFacts> facts(CandidateNode node) {
    Optional<NodeFacts> cached = view.node(node.name());
    if (cached.isPresent() || node.labels().isEmpty()) {
      return cached;
    }
    return Optional.of(NodeFacts.of(new NodeBuilder().withNewMetadata().withName(node.name()).withLabels(node.labels())
        .endMetadata().build(), catalog));
  }
}
