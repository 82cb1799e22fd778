package dev.dovetail.provisioner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfig;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfigSpec;
import dev.dovetail.api.config.v1alpha1.ReverseFallback;
import dev.dovetail.api.karpenter.v1.Disruption;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.testing.OrchestratorConfigs;
import dev.dovetail.provisioner.testing.Rules;
import dev.dovetail.simulator.Outcome;
import dev.dovetail.simulator.Scenario;
import dev.dovetail.simulator.SpotSimulation;
import dev.dovetail.simulator.Strategy;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithCluster;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The spot-savings simulator checked against reality: {@link Scenario#replay} — a Deployment on spot by its
 * rule, scaled up while all of spot is out of capacity (so the new replicas fall back), spot back (reverse
 * fallback), scaled down (consolidation) — played on the local control plane (kube-scheduler calling the
 * extender, the controller manager, kwok nodes, the sim cloud with the faults its ConfigMap names) at the
 * scenario's own times, and simulated. The real cost is every NodeClaim's catalog price for the time it
 * existed within the scenario, as the simulation bills its nodes; the two must agree within 5 %.
 *
 * <p>The scenario's steps are its input, so they are fired at their times (a replay, not a wait for a
 * condition); nothing is asserted about how long anything took.
 */
@WithCluster(schedulerConfig = "manifests/scheduler/local-extender.yaml")
class SimulatorFidelityE2EIT {
  private static final String FAULTS = "dovetail-sim-faults-fidelity";

  /** A NodeClaim as the watch saw it: when it appeared and went, and its offering once launched. */
  private static final class Seen {
    final Instant created;
    volatile Instant gone;
    volatile NodeClaim last;

    Seen(Instant created, NodeClaim claim) {
      this.created = created;
      this.last = claim;
    }
  }

  @Test
  void theSimulatedCostOfTheReplayIsWithinFivePercentOfItsCostOnTheControlPlane(KubernetesClient client, TestNamespace ns) throws Exception {
    Scenario scenario = Scenario.replay();
    List<String> simulatedTrace = new ArrayList<>();
    Outcome simulated = new SpotSimulation(scenario, Strategy.COST_OPTIMIZED, simulatedTrace::add).run();

    client.configMaps().inNamespace("kube-system").withName(FAULTS).delete();
    Scenario.Timings t = scenario.timings();
    Operator.Settings settings = Fixtures.settings("fidelity", false).withSimConfigMap("kube-system/" + FAULTS)
        .withUnavailableOfferingsTtl(t.unavailableTtl());
    settings = settings.withDisruption(new Operator.Disruption(t.validation(), settings.disruption().spotToSpot(), settings.disruption().repair()));
    String label = Fixtures.unique("fidelity");
    Map<String, Seen> claims = new ConcurrentHashMap<>();
    SharedIndexInformer<NodeClaim> watch = client.resources(NodeClaim.class).withLabel(WellKnownLabels.NODEPOOL, label)
        .inform(new ResourceEventHandler<>() {
          @Override
          public void onAdd(NodeClaim c) {
            claims.putIfAbsent(c.getMetadata().getName(), new Seen(Instant.now(), c));
          }

          @Override
          public void onUpdate(NodeClaim old, NodeClaim c) {
            Seen s = claims.get(c.getMetadata().getName());
            if (s != null) {
              s.last = c;
              if (c.getMetadata().getDeletionTimestamp() != null && s.gone == null) {
                s.gone = Instant.now();
              }
            }
          }

          @Override
          public void onDelete(NodeClaim c, boolean unknownFinalState) {
            Seen s = claims.get(c.getMetadata().getName());
            if (s != null && s.gone == null) {
              s.gone = Instant.now();
            }
          }
        });
    ScheduledExecutorService steps = Executors.newSingleThreadScheduledExecutor();
    try (InProcess dovetail = InProcess.start(client, settings)) {
      try {
        play(client, ns, scenario, label, claims, steps, simulated, simulatedTrace);
      } finally {
        // While the provisioner still runs: it finalizes the claims.
        client.resources(ClusterOrchestratorConfig.class).withName(ClusterOrchestratorConfig.NAME).delete();
        client.apps().deployments().inNamespace(ns.name()).delete();
        client.resources(NodePool.class).withName(label).delete();
        client.resources(NodeClaim.class).withLabel(WellKnownLabels.NODEPOOL, label).delete();
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> assertThat(
            client.resources(NodeClaim.class).withLabel(WellKnownLabels.NODEPOOL, label).list().getItems()).isEmpty());
        client.resources(EC2NodeClass.class).withName(label).delete();
      }
    } finally {
      steps.shutdownNow();
      watch.close();
      client.configMaps().inNamespace("kube-system").withName(FAULTS).delete();
    }
  }

  private static void play(KubernetesClient client, TestNamespace ns, Scenario scenario, String label, Map<String, Seen> claims,
      ScheduledExecutorService steps, Outcome simulated, List<String> simulatedTrace) throws InterruptedException {
    Scenario.Timings t = scenario.timings();
    {
      client.resources(EC2NodeClass.class).resource(Fixtures.nodeClass(label)).create();
      client.resources(NodePool.class).resource(Fixtures.withDisruption(Fixtures.nodePool(label, label, label, null, null,
          NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_TYPE, scenario.instanceTypes().toArray(String[]::new)),
          NodeSelectorRequirementWithMinValues.in(WellKnownLabels.ZONE, scenario.zones().toArray(String[]::new)),
          NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.SPOT, WellKnownLabels.ON_DEMAND)),
          new Disruption(t.consolidateAfter().toSeconds() + "s", Disruption.ConsolidationPolicy.WhenEmptyOrUnderutilized, null))).create();
      Scenario.WorkloadSpec web = scenario.workloads().get(0);
      Rules.create(client, ns.name(), web.spotPercent());
      client.resource(OrchestratorConfigs.of(new ClusterOrchestratorConfigSpec(null, null,
          new ReverseFallback(true, t.reverseFallbackInterval().toSeconds() + "s"), null, null, null))).create();

      // The replay: the first step creates the Deployment, the others scale it; the outage switches spot off and on.
      CountDownLatch ended = new CountDownLatch(1);
      Instant start = Instant.now();
      for (Scenario.Step step : web.steps()) {
        steps.schedule(() -> {
          if (step.at().isZero()) {
            client.apps().deployments().resource(Fixtures.deployment(ns.name(), web.name(), step.replicas(), web.cpuMillis() + "m",
                web.memoryMiB() + "Mi", label)).create();
          } else {
            client.apps().deployments().inNamespace(ns.name()).withName(web.name()).scale(step.replicas());
          }
        }, step.at().toMillis(), TimeUnit.MILLISECONDS);
      }
      for (Scenario.Outage o : scenario.market().outages()) {
        steps.schedule(() -> faults(client, "*/*/spot"), o.start().toMillis(), TimeUnit.MILLISECONDS);
        steps.schedule(() -> faults(client, ""), o.start().plus(o.length()).toMillis(), TimeUnit.MILLISECONDS);
      }
      steps.schedule(ended::countDown, scenario.period().toMillis(), TimeUnit.MILLISECONDS);
      assertThat(ended.await(scenario.period().toSeconds() + 60, TimeUnit.SECONDS)).as("the replay ran to its end").isTrue();
      Instant end = Instant.now();

      double real = 0;
      List<String> realTrace = new ArrayList<>();
      for (Map.Entry<String, Seen> e : claims.entrySet()) {
        Seen s = e.getValue();
        Map<String, String> labels = s.last.getMetadata().getLabels();
        String type = labels.get(WellKnownLabels.INSTANCE_TYPE);
        if (type == null) {
          realTrace.add(e.getKey() + " never launched");
          continue;
        }
        CapacityType capacityType = CapacityType.fromLabel(labels.get(WellKnownLabels.CAPACITY_TYPE)).orElseThrow();
        double price = Catalog.bundled().get(type).orElseThrow().pricePerHour(capacityType, labels.get(WellKnownLabels.ZONE));
        Instant from = s.created.isBefore(start) ? start : s.created;
        Instant to = s.gone == null || s.gone.isAfter(end) ? end : s.gone;
        real += price * Duration.between(from, to).toMillis() / 3_600_000.0;
        realTrace.add(String.format("%s %s %s %s from %ds to %s", e.getKey(), type, capacityType.label(),
            labels.getOrDefault("dovetail.dev/capacity-fallback", ""), Duration.between(start, from).toSeconds(),
            s.gone == null ? "the end" : Duration.between(start, s.gone).toSeconds() + "s"));
      }
      String report = "simulated $" + simulated.cost() + ":\n  " + String.join("\n  ", simulatedTrace) + "\nreal $" + real + ":\n  "
          + String.join("\n  ", realTrace);
      System.out.println(report);
      assertThat(real).as(report).isCloseTo(simulated.cost(), within(0.05 * simulated.cost()));
    }
  }

  /** Sets the simulated cloud's offerings without capacity. */
  private static void faults(KubernetesClient client, String insufficientCapacity) {
    client.configMaps().inNamespace("kube-system").resource(new ConfigMapBuilder().withNewMetadata().withName(FAULTS).withNamespace("kube-system")
        .endMetadata().addToData("insufficientCapacity", insufficientCapacity).build()).serverSideApply();
  }
}
