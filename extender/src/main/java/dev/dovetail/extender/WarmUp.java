package dev.dovetail.extender;

import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.distribution.DistributionRule;
import dev.dovetail.api.distribution.RuleSet;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec.Selector;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec.Strategy;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.Resources;
import dev.dovetail.extender.decision.Decisions;
import dev.dovetail.extender.decision.InFlightTable;
import dev.dovetail.extender.decision.Outcome;
import dev.dovetail.extender.protocol.ExtenderArgs;
import dev.dovetail.extender.protocol.ExtenderArgsParser;
import dev.dovetail.extender.protocol.Responses;
import dev.dovetail.state.MemoryClusterView;
import dev.dovetail.state.NodeFacts;
import dev.dovetail.state.Workload;
import dev.dovetail.state.WorkloadKey;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Runs the request path — parse, decide, encode, for filter and prioritize, under both strategies — on made-up
 * requests against a scratch cluster view before the extender serves kube-scheduler. Cold, the first calls
 * load and interpret all of it (tens of milliseconds on a quiet core); on a starved CPU that took longer than
 * kube-scheduler's extender timeout (1 s), and an ignorable extender that times out lets the replica through
 * unfiltered, onto whichever capacity type kube-scheduler likes. Nothing here touches the real view or metrics.
 */
final class WarmUp {
  private static final String[] NODES = {"warm-spot-a", "warm-spot-b", "warm-od-a", "warm-od-b"};

  private WarmUp() {
  }

  /** How the made-up calls were answered: they must go the governed way (an exempt or unruled pod warms little). */
  record Summary(Map<Outcome, Integer> filter, Map<Outcome, Integer> prioritize) {
  }

  static Summary requestPath(int rounds) {
    Catalog catalog = Catalog.bundled();
    WorkloadKey workload = new WorkloadKey("warm-a", "Deployment", "warm");
    MemoryClusterView view = new MemoryClusterView()
        .rules(RuleSet.of(List.of(
            new RuleSet.Entry("warm-cluster", Instant.EPOCH, Optional.empty(),
                new DistributionRule(70, 30, 1, Selector.SpotReady, Strategy.CostOptimized)),
            new RuleSet.Entry("warm-spread", Instant.EPOCH, Optional.of("warm-b"),
                new DistributionRule(70, 30, 1, Selector.SpotReady, Strategy.LeastInterrupted)))))
        .workload("ReplicaSet", "warm-rs", new Workload(workload, 10))
        .workload("ReplicaSet", "warm-rs", new Workload(new WorkloadKey("warm-b", "Deployment", "warm"), 10));
    for (String name : NODES) {
      view.node(NodeFacts.of(new NodeBuilder().withNewMetadata().withName(name)
          .addToLabels(WellKnownLabels.CAPACITY_TYPE, name.contains("spot") ? "spot" : "on-demand")
          .addToLabels(WellKnownLabels.ZONE, name.endsWith("a") ? "us-east-1a" : "us-east-1b")
          .addToLabels(WellKnownLabels.INSTANCE_TYPE, "m5.large").endMetadata()
          .withNewStatus().addToAllocatable("cpu", new Quantity("2")).addToAllocatable("memory", new Quantity("8Gi"))
          .addToAllocatable("pods", new Quantity("29")).endStatus().build(), catalog));
    }
    view.pod("warm-bound-1", workload, Optional.of("warm-spot-a"), Resources.of("cpu", "100m", "memory", "128Mi"));
    view.pod("warm-bound-2", workload, Optional.of("warm-od-a"), Resources.of("cpu", "100m", "memory", "128Mi"));
    Decisions decisions = new Decisions(view, new InFlightTable(), Set.of("kube-system"), catalog);
    Map<Outcome, Integer> filtered = new EnumMap<>(Outcome.class);
    Map<Outcome, Integer> prioritized = new EnumMap<>(Outcome.class);
    for (int i = 0; i < rounds; i++) {
      String namespace = i % 2 == 0 ? "warm-a" : "warm-b";
      // Now and then only on-demand nodes: the path that explains every rejection.
      String[] nodes = i % 7 == 6 ? new String[] {"warm-od-a", "warm-od-b"} : NODES;
      ExtenderArgs filter = ExtenderArgsParser.parse(request(namespace, i, nodes));
      Decisions.FilterVerdict f = decisions.filter(filter);
      Responses.filter(f.result(), filter);
      filtered.merge(f.outcome(), 1, Integer::sum);
      ExtenderArgs prioritize = ExtenderArgsParser.parse(request(namespace, i, nodes));
      Decisions.PrioritizeVerdict p = decisions.prioritize(prioritize);
      Responses.prioritize(p.priorities());
      prioritized.merge(p.outcome(), 1, Integer::sum);
    }
    return new Summary(filtered, prioritized);
  }

  /** A node-cache-mode request as kube-scheduler sends it, for a replica of the scratch Deployment. */
  private static byte[] request(String namespace, int i, String... nodes) {
    StringBuilder names = new StringBuilder();
    for (String n : nodes) {
      names.append(names.length() == 0 ? "" : ",").append('"').append(n).append('"');
    }
    return ("{\"Pod\":{\"metadata\":{\"name\":\"warm-rs-" + i + "\",\"namespace\":\"" + namespace + "\",\"uid\":\"warm-" + i + "\","
        + "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"warm-rs\",\"uid\":\"warm-rs-uid\","
        + "\"controller\":true}]},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"resources\":{\"requests\":"
        + "{\"cpu\":\"100m\",\"memory\":\"128Mi\"}}}]},\"status\":{\"phase\":\"Pending\"}},\"Nodes\":null,\"NodeNames\":[" + names + "]}")
        .getBytes(StandardCharsets.UTF_8);
  }
}
