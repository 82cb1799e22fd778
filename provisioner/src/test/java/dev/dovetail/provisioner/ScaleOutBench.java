package dev.dovetail.provisioner;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.cloud.sim.SimCloudProvider;
import dev.dovetail.testkit.BenchReport;
import dev.dovetail.testkit.ControlPlaneExtension;
import dev.dovetail.testkit.KwokCluster;
import dev.dovetail.testkit.RepoPaths;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Scale-out from zero on a real control plane: a burst of pending pods in three shapes (small, medium,
 * large) and the time until the provisioner has created their NodeClaims and until every pod runs.
 * kube-scheduler (calling the extender) binds them, kwok runs
 * the nodes; the sim cloud boots nodes at once, so the figures are Dovetail's and the control plane's,
 * not EC2's. Run by scripts/bench-provisioner.
 */
public final class ScaleOutBench {
  private static final String[] ZONES = {"us-east-1a", "us-east-1b", "us-east-1c"};

  private record Result(int pods, double podsCreatedS, double firstClaimS, double claimsDoneS, double allRunningS, int claims, int nodes, double costPerHour,
      double onDemandPerHour, double simulationMs, long passes) {
  }

  public static void main(String[] args) throws Exception {
    int[] sizes = args.length > 0 ? Arrays.stream(args[0].split(",")).mapToInt(Integer::parseInt).toArray() : new int[] {200, 1000};
    System.out.println("Provisioner scale-out on " + BenchReport.machine());
    List<Result> results = new ArrayList<>();
    try (KwokCluster cluster = KwokCluster.start(Optional.of(RepoPaths.root().resolve("manifests/scheduler/local-extender.yaml")))) {
      KubernetesClient client = cluster.client();
      ControlPlaneExtension.installCrds(client);
      PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      try (Operator operator = new Operator(Fixtures.settings("bench", false), client,
          Catalog.bundled(), registry, Clock.systemUTC()).start();
          LocalExtender extender = LocalExtender.start(operator.caches().view(), registry)) {
        for (int size : sizes) {
          results.add(run(client, registry, size));
        }
      }
    }
    System.out.println();
    System.out.println("| pending pods | pods created (s) | first NodeClaim (s) | all NodeClaims (s) | all pods Running (s) | NodeClaims | nodes | simulation ms (passes) "
        + "| $/h | $/h all on-demand |");
    System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (Result r : results) {
      System.out.printf("| %d | %.2f | %.2f | %.2f | %.2f | %d | %d | %.0f (%d) | %.2f | %.2f |%n", r.pods(), r.podsCreatedS(), r.firstClaimS(), r.claimsDoneS(), r.allRunningS(),
          r.claims(), r.nodes(), r.simulationMs(), r.passes(), r.costPerHour(), r.onDemandPerHour());
    }
    System.out.println("\nTimes from the start of pod creation (16 client threads). Batch windows: 1 s idle, 10 s max (Karpenter's).");
  }

  private static Result run(KubernetesClient client, PrometheusMeterRegistry registry, int pods) throws InterruptedException {
    String label = Fixtures.unique("scale");
    String ns = label;
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build()).create();
    client.resources(EC2NodeClass.class).resource(Fixtures.nodeClass(label)).create();
    NodePool pool = Fixtures.nodePool(label, label, label, null, null,
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_CATEGORY, "c", "m", "r"),
        NodeSelectorRequirementWithMinValues.of(WellKnownLabels.INSTANCE_GENERATION, NodeSelectorRequirementWithMinValues.Operator.Gt, "5"),
        NodeSelectorRequirementWithMinValues.of(WellKnownLabels.INSTANCE_CPU, NodeSelectorRequirementWithMinValues.Operator.Lt, "33"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.ZONE, ZONES),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, "spot", "on-demand"));
    client.resources(NodePool.class).resource(pool).create();
    Thread.sleep(2000); // the NodePool's status controller marks it ready
    Timer simulation = registry.find("karpenter.provisioner.scheduling.duration").timer();
    double simBefore = simulation == null ? 0 : simulation.totalTime(TimeUnit.MILLISECONDS);
    long passesBefore = simulation == null ? 0 : simulation.count();

    int small = pods / 2;
    int medium = pods * 3 / 10;
    int large = pods - small - medium;
    // The pods are created here, from many threads, rather than by Deployments: kube-controller-manager
    // creates pods at its client rate limit (20/s by default), which would be what this measures.
    Phases phases = new Phases(client, ns, label);
    long t0 = System.nanoTime();
    ExecutorService creators = Executors.newFixedThreadPool(16);
    List<Future<?>> created = new ArrayList<>();
    for (int i = 0; i < pods; i++) {
      Pod pod = i < small ? pod(ns, "small", i, "250m", "512Mi", label) : i < small + medium ? pod(ns, "medium", i, "1", "2Gi", label)
          : pod(ns, "large", i, "2", "4Gi", label);
      created.add(creators.submit(() -> {
        long sent = System.nanoTime();
        client.pods().inNamespace(ns).resource(pod).create();
        phases.created(pod.getMetadata().getName(), sent);
      }));
    }
    for (Future<?> f : created) {
      try {
        f.get();
      } catch (ExecutionException e) {
        throw new IllegalStateException("creating a pod failed", e.getCause());
      }
    }
    creators.shutdown();
    double podsCreated = seconds(System.nanoTime() - t0);

    double firstClaim = Double.NaN;
    double claimsDone = Double.NaN;
    int lastClaims = -1;
    long lastClaimChange = t0;
    long deadline = t0 + TimeUnit.MINUTES.toNanos(5);
    while (System.nanoTime() < deadline) {
      int claims = client.resources(NodeClaim.class).withLabel(WellKnownLabels.NODEPOOL, label).list().getItems().size();
      long now = System.nanoTime();
      if (claims > 0 && Double.isNaN(firstClaim)) {
        firstClaim = seconds(now - t0);
      }
      if (claims != lastClaims) {
        lastClaims = claims;
        lastClaimChange = now;
      }
      long running = client.pods().inNamespace(ns).withField("status.phase", "Running").list().getItems().size();
      if (running == pods) {
        claimsDone = seconds(lastClaimChange - t0);
        break;
      }
      Thread.sleep(100);
    }
    double allRunning = seconds(System.nanoTime() - t0);
    System.out.printf("%nPhases of the %d-pod scale-out, per pod through the NodeClaim of its node:%n%n%s", pods, phases.table());
    phases.close();
    List<Pod> notRunning = client.pods().inNamespace(ns).list().getItems().stream().filter(p -> !"Running".equals(p.getStatus().getPhase())).toList();
    if (!notRunning.isEmpty()) {
      throw new IllegalStateException(notRunning.size() + " of " + pods + " pods are not Running after 5 minutes");
    }
    List<Node> nodes = client.nodes().withLabel(Fixtures.TEST_LABEL, label).list().getItems();
    double cost = 0;
    double onDemand = 0;
    Catalog catalog = Catalog.bundled();
    for (Node n : nodes) {
      Map<String, String> annotations = n.getMetadata().getAnnotations();
      cost += Double.parseDouble(annotations.get(SimCloudProvider.PRICE_ANNOTATION));
      onDemand += catalog.get(n.getMetadata().getLabels().get(WellKnownLabels.INSTANCE_TYPE)).orElseThrow().onDemandPricePerHour();
    }
    simulation = registry.find("karpenter.provisioner.scheduling.duration").timer();
    return new Result(pods, podsCreated, firstClaim, claimsDone, allRunning, lastClaims, nodes.size(), cost, onDemand,
        simulation.totalTime(TimeUnit.MILLISECONDS) - simBefore, simulation.count() - passesBefore);
  }

  private static Pod pod(String ns, String app, int i, String cpu, String memory, String poolLabel) {
    return new PodBuilder().withNewMetadata().withName(app + "-" + i).withNamespace(ns).addToLabels("app", app).endMetadata()
        .withNewSpec().addToNodeSelector(Fixtures.TEST_LABEL, poolLabel).withTerminationGracePeriodSeconds(0L)
        .addNewContainer().withName("app").withImage("registry.k8s.io/pause:3.10")
        .withNewResources().addToRequests("cpu", new Quantity(cpu)).addToRequests("memory", new Quantity(memory)).endResources()
        .endContainer().endSpec().build();
  }

  private static double seconds(long nanos) {
    return nanos / 1e9;
  }

  private ScaleOutBench() {
  }
}
