package dev.dovetail.api.scheduling;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.TaintBuilder;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * The optimised simulation answers exactly as the plain reference does ({@link ReferenceScheduler}: the
 * first-fit simulation before it was optimised for scale), on random small clusters and workloads that
 * use every kind of constraint: requests with extended resources, node selectors and ORed affinity
 * terms, preferred affinity, taints and tolerations, host ports, zone and hostname topology spread, pod
 * affinity and anti-affinity on zones and hosts, minValues, NodePool limits, existing nodes and
 * in-flight claims with pods already running.
 */
class SchedulerEquivalenceTest {
  private static final List<String> ZONES = List.of("us-east-1a", "us-east-1b", "us-east-1c");

  @Property(tries = 400)
  void theOptimisedSimulationPlacesEveryPodAsTheReferenceDoes(@ForAll long seed) {
    Scenario s = Scenario.random(new Random(seed));
    Solution expected = new ReferenceScheduler(s.nodes(), s.pools(), s.placed(), 8).solve(s.pods());
    Solution actual = new Scheduler(s.nodes(), s.pools(), s.placed(), 8).solve(s.pods());
    assertThat(describe(actual)).as("seed %d", seed).isEqualTo(describe(expected));
  }

  /** Everything a solution decides, in a form that compares by value. */
  private static Map<String, Object> describe(Solution s) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("onExistingNodes", s.onExistingNodes());
    List<String> claims = new ArrayList<>();
    for (NewClaim c : s.newClaims()) {
      claims.add(c.template().nodePool() + " " + c.podUids() + " " + c.requests().amounts() + " " + c.requirements() + " "
          + c.options().stream().map(InstanceOption::name).toList());
    }
    out.put("newClaims", claims);
    Map<String, String> unschedulable = new LinkedHashMap<>();
    s.unschedulable().forEach((uid, reason) -> unschedulable.put(uid, reason.message()));
    out.put("unschedulable", unschedulable);
    return out;
  }

  record Scenario(List<SimNode> nodes, List<ClaimTemplate> pools, List<Scheduler.Placed> placed, List<SchedulingPod> pods) {
    static Scenario random(Random r) {
      List<InstanceOption> options = options(r);
      List<ClaimTemplate> pools = new ArrayList<>();
      int poolCount = 1 + r.nextInt(3);
      for (int i = 0; i < poolCount; i++) {
        pools.add(pool(r, "pool" + i, options));
      }
      List<SimNode> nodes = new ArrayList<>();
      List<Scheduler.Placed> placed = new ArrayList<>();
      int nodeCount = r.nextInt(5);
      for (int i = 0; i < nodeCount; i++) {
        String zone = ZONES.get(r.nextInt(3));
        String host = "node-" + i;
        Map<String, String> labels = Map.of(WellKnownLabels.ZONE, zone, WellKnownLabels.HOSTNAME, host, WellKnownLabels.CAPACITY_TYPE,
            r.nextBoolean() ? "spot" : "on-demand", WellKnownLabels.NODEPOOL, "pool" + r.nextInt(poolCount));
        Resources allocatable = new Resources(Map.of(Resources.CPU, 2000L * (1 + r.nextInt(4)), Resources.MEMORY, (4L + r.nextInt(12)) << 30,
            Resources.PODS, 10L + r.nextInt(20)));
        Resources used = new Resources(Map.of(Resources.CPU, 250L * r.nextInt(6), Resources.MEMORY, (long) r.nextInt(3) << 30,
            Resources.PODS, (long) r.nextInt(4)));
        List<Taint> taints = r.nextInt(5) == 0 ? List.of(new TaintBuilder().withKey("dedicated").withValue("x").withEffect("NoSchedule").build())
            : List.of();
        if (r.nextInt(4) == 0) {
          Requirements claimRequirements = Requirements.of(Requirement.in(WellKnownLabels.ZONE, zone),
              Requirement.in(WellKnownLabels.NODEPOOL, labels.get(WellKnownLabels.NODEPOOL)));
          nodes.add(new SimNode("claim-" + i, Map.of(WellKnownLabels.NODEPOOL, labels.get(WellKnownLabels.NODEPOOL)), claimRequirements, taints,
              allocatable, used, Set.of(), true));
        } else {
          nodes.add(SimNode.node(host, labels, taints, allocatable, used, r.nextInt(6) == 0 ? Set.of("TCP/8080") : Set.of()));
        }
        for (int k = r.nextInt(3); k > 0; k--) {
          placed.add(new Scheduler.Placed("default", Map.of("app", "w" + r.nextInt(4)), labels));
        }
      }
      List<SchedulingPod> pods = new ArrayList<>();
      int workloads = 1 + r.nextInt(6);
      int podIndex = 0;
      for (int w = 0; w < workloads; w++) {
        Workload workload = Workload.random(r, "w" + w);
        for (int i = 1 + r.nextInt(12); i > 0; i--) {
          pods.add(SchedulingPod.of(workload.pod(r, podIndex++), Requirements.NONE));
        }
      }
      return new Scenario(nodes, pools, placed, pods);
    }

    static List<InstanceOption> options(Random r) {
      List<InstanceOption> out = new ArrayList<>();
      int count = 3 + r.nextInt(12);
      for (int i = 0; i < count; i++) {
        int vcpu = 1 << r.nextInt(5);
        long memGiB = (long) vcpu * (1 + r.nextInt(8));
        String family = List.of("c6i", "m6i", "r6i", "m7g").get(r.nextInt(4));
        String name = family + "." + vcpu + "x" + i;
        Map<String, Long> capacity = new LinkedHashMap<>(Map.of(Resources.CPU, vcpu * 1000L, Resources.MEMORY, memGiB << 30,
            Resources.PODS, 8L + r.nextInt(50)));
        if (r.nextInt(6) == 0) {
          capacity.put("nvidia.com/gpu", 1L + r.nextInt(4));
        }
        Requirements labels = Requirements.of(Requirement.in(WellKnownLabels.INSTANCE_TYPE, name),
            Requirement.in(WellKnownLabels.INSTANCE_FAMILY, family), Requirement.in(WellKnownLabels.ARCH, family.endsWith("g") ? "arm64" : "amd64"));
        List<Offering> offerings = new ArrayList<>();
        for (String zone : ZONES) {
          if (r.nextInt(4) != 0) {
            offerings.add(new Offering(zone, CapacityType.ON_DEMAND, 0.04 * vcpu + 0.001 * i, r.nextInt(10) != 0));
            offerings.add(new Offering(zone, CapacityType.SPOT, 0.015 * vcpu + 0.001 * i, r.nextInt(5) != 0));
          }
        }
        out.add(new InstanceOption(name, labels, new Resources(capacity), new Resources(Map.of(Resources.CPU, 100L, Resources.MEMORY, 256L << 20)),
            offerings));
      }
      return out;
    }

    static ClaimTemplate pool(Random r, String name, List<InstanceOption> options) {
      List<Requirement> requirements = new ArrayList<>();
      requirements.add(Requirement.in(WellKnownLabels.NODEPOOL, name));
      if (r.nextBoolean()) {
        requirements.add(Requirement.in(WellKnownLabels.CAPACITY_TYPE, r.nextBoolean() ? List.of("spot", "on-demand") : List.of("on-demand")));
      }
      if (r.nextInt(3) == 0) {
        requirements.add(Requirement.in(WellKnownLabels.ZONE, ZONES.subList(0, 1 + r.nextInt(3))));
      }
      if (r.nextInt(4) == 0) {
        requirements.add(Requirement.in(WellKnownLabels.ARCH, "amd64"));
      }
      if (r.nextInt(5) == 0) {
        requirements.add(Requirement.of(WellKnownLabels.INSTANCE_FAMILY, NodeSelectorRequirementWithMinValues.Operator.In, List.of("c6i", "m6i", "r6i", "m7g"), 2 + r.nextInt(2)));
      }
      List<Taint> taints = r.nextInt(5) == 0 ? List.of(new TaintBuilder().withKey("dedicated").withValue("x").withEffect("NoSchedule").build())
          : List.of();
      Resources limits = switch (r.nextInt(5)) {
        case 0 -> new Resources(Map.of(Resources.CPU, 4000L * (1 + r.nextInt(6))));
        case 1 -> new Resources(Map.of("nodes", 1L + r.nextInt(4)));
        default -> null;
      };
      Resources daemons = r.nextBoolean() ? Resources.NONE : new Resources(Map.of(Resources.CPU, 100L, Resources.MEMORY, 128L << 20));
      return new ClaimTemplate(name, r.nextInt(3) * 10, Requirements.of(requirements.toArray(Requirement[]::new)), Map.of(WellKnownLabels.NODEPOOL,
          name), taints, daemons, options, limits);
    }
  }

  /** One workload's pods: the same constraints, requests drawn from a few sizes. */
  record Workload(String app, int kind, String zone, boolean tolerates, boolean hostPort, boolean selfSelecting, int maxSkew,
      boolean twoTerms, boolean preferZone, boolean gpu) {
    static Workload random(Random r, String app) {
      return new Workload(app, r.nextInt(10), ZONES.get(r.nextInt(3)), r.nextInt(3) == 0, r.nextInt(8) == 0, r.nextInt(5) != 0,
          1 + r.nextInt(2), r.nextInt(6) == 0, r.nextInt(6) == 0, r.nextInt(10) == 0);
    }

    Pod pod(Random r, int index) {
      String[] cpus = {"100m", "250m", "500m", "1", "1500m", "3"};
      String[] mems = {"128Mi", "512Mi", "1Gi", "2Gi", "6Gi"};
      PodBuilder b = new PodBuilder().withNewMetadata().withName(app + "-" + index).withNamespace("default").withUid("uid-" + index)
          .withCreationTimestamp("2026-12-06T10:00:0" + (index % 10) + "Z").addToLabels("app", app).endMetadata()
          .withNewSpec().addNewContainer().withName("c").withImage("i").withNewResources()
          .addToRequests("cpu", new Quantity(cpus[r.nextInt(cpus.length)])).addToRequests("memory", new Quantity(mems[r.nextInt(mems.length)]))
          .endResources().endContainer().endSpec();
      if (gpu) {
        b.editSpec().editFirstContainer().editResources().addToRequests("nvidia.com/gpu", new Quantity("1")).endResources().endContainer().endSpec();
      }
      if (hostPort) {
        b.editSpec().editFirstContainer().addNewPort().withContainerPort(8080).withHostPort(8080).endPort().endContainer().endSpec();
      }
      if (tolerates) {
        b.editSpec().addToTolerations(new TolerationBuilder().withKey("dedicated").withOperator("Exists").build()).endSpec();
      }
      var selector = new LabelSelectorBuilder().addToMatchLabels("app", selfSelecting ? app : "other").build();
      switch (kind) {
        case 1 -> b.editSpec().addNewTopologySpreadConstraint().withMaxSkew(maxSkew).withTopologyKey(WellKnownLabels.ZONE)
            .withWhenUnsatisfiable("DoNotSchedule").withLabelSelector(selector).endTopologySpreadConstraint().endSpec();
        case 2 -> b.editSpec().addNewTopologySpreadConstraint().withMaxSkew(maxSkew).withTopologyKey(WellKnownLabels.HOSTNAME)
            .withWhenUnsatisfiable("DoNotSchedule").withLabelSelector(selector).endTopologySpreadConstraint().endSpec();
        case 3 -> b.editSpec().withNewAffinity().withNewPodAffinity().addNewRequiredDuringSchedulingIgnoredDuringExecution()
            .withTopologyKey(WellKnownLabels.ZONE).withLabelSelector(selector).endRequiredDuringSchedulingIgnoredDuringExecution()
            .endPodAffinity().endAffinity().endSpec();
        case 4 -> b.editSpec().withNewAffinity().withNewPodAntiAffinity().addNewRequiredDuringSchedulingIgnoredDuringExecution()
            .withTopologyKey(WellKnownLabels.HOSTNAME).withLabelSelector(selector).endRequiredDuringSchedulingIgnoredDuringExecution()
            .endPodAntiAffinity().endAffinity().endSpec();
        case 5 -> b.editSpec().withNewAffinity().withNewPodAntiAffinity().addNewRequiredDuringSchedulingIgnoredDuringExecution()
            .withTopologyKey(WellKnownLabels.ZONE).withLabelSelector(selector).endRequiredDuringSchedulingIgnoredDuringExecution()
            .endPodAntiAffinity().endAffinity().endSpec();
        case 6 -> b.editSpec().addToNodeSelector(WellKnownLabels.ZONE, zone).endSpec();
        case 7 -> b.editSpec().withNewAffinity().withNewNodeAffinity().withNewRequiredDuringSchedulingIgnoredDuringExecution()
            .addNewNodeSelectorTerm().addNewMatchExpression().withKey(WellKnownLabels.CAPACITY_TYPE).withOperator("In").withValues("spot")
            .endMatchExpression().endNodeSelectorTerm()
            .addNewNodeSelectorTerm().addNewMatchExpression().withKey(WellKnownLabels.ZONE).withOperator("In").withValues(zone)
            .endMatchExpression().endNodeSelectorTerm()
            .endRequiredDuringSchedulingIgnoredDuringExecution().endNodeAffinity().endAffinity().endSpec();
        case 8 -> b.editSpec().addNewTopologySpreadConstraint().withMaxSkew(maxSkew).withTopologyKey(WellKnownLabels.HOSTNAME)
            .withWhenUnsatisfiable("DoNotSchedule").withLabelSelector(selector).endTopologySpreadConstraint()
            .addNewTopologySpreadConstraint().withMaxSkew(1).withTopologyKey(WellKnownLabels.ZONE)
            .withWhenUnsatisfiable("DoNotSchedule").withLabelSelector(selector).endTopologySpreadConstraint().endSpec();
        default -> { }
      }
      if (preferZone) {
        b.editSpec().editOrNewAffinity().editOrNewNodeAffinity().addNewPreferredDuringSchedulingIgnoredDuringExecution().withWeight(10)
            .withNewPreference().addNewMatchExpression().withKey(WellKnownLabels.ZONE).withOperator("In").withValues(zone).endMatchExpression()
            .endPreference().endPreferredDuringSchedulingIgnoredDuringExecution().endNodeAffinity().endAffinity().endSpec();
      }
      if (twoTerms && kind != 4) {
        b.editSpec().editOrNewAffinity().editOrNewPodAntiAffinity().addNewRequiredDuringSchedulingIgnoredDuringExecution()
            .withTopologyKey(WellKnownLabels.HOSTNAME).withLabelSelector(new LabelSelectorBuilder().addToMatchLabels("app", app).build())
            .endRequiredDuringSchedulingIgnoredDuringExecution().endPodAntiAffinity().endAffinity().endSpec();
      }
      return b.build();
    }
  }
}
