package dev.dovetail.interruption;


import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.testkit.BenchReport;
import dev.dovetail.testkit.ControlPlaneExtension;
import dev.dovetail.testkit.KwokCluster;
import dev.dovetail.testkit.MetadataMock;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import dev.dovetail.interruption.imds.Imds;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.Optional;

/**
 * Notice-to-taint and notice-to-drained latency of the interrupt listener, over many notices: each trial
 * a fresh kwok node running three pods (with a spare node for them), a fresh amazon-ec2-metadata-mock
 * issuing a spot interruption one second after it starts, and the agent polling every second. Times are
 * measured from the mock's start plus its delay, an upper bound of when the notice appeared.
 * Run by scripts/bench-interruption.
 */
public final class InterruptionBench {
  public static void main(String[] args) throws Exception {
    int trials = args.length > 0 ? Integer.parseInt(args[0]) : 50;
    System.out.println("Interrupt listener latency on " + BenchReport.machine());
    long[] toTaint = new long[trials];
    long[] toDrained = new long[trials];
    try (KwokCluster cluster = KwokCluster.start(Optional.empty())) {
      KubernetesClient client = cluster.client();
      ControlPlaneExtension.installCrds(client);
      client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("bench").endMetadata().build()).create();
      for (int t = 0; t < trials; t++) {
        String pool = "bench-" + t;
        String doomed = pool + "-spot";
        client.nodes().resource(InterruptionE2EIT.node(doomed, pool)).create();
        // The spare starts cordoned, so the pods start on the doomed node.
        Node spare = InterruptionE2EIT.node(pool + "-spare", pool);
        spare.getSpec().setUnschedulable(true);
        client.nodes().resource(spare).create();
        client.apps().deployments().resource(new DeploymentBuilder().withNewMetadata().withName(pool).withNamespace("bench").endMetadata()
            .withNewSpec().withReplicas(3).withNewSelector().addToMatchLabels("app", pool).endSelector()
            .withNewTemplate().withNewMetadata().addToLabels("app", pool).endMetadata()
            .withNewSpec().addToNodeSelector(InterruptionE2EIT.POOL, pool).withTerminationGracePeriodSeconds(0L)
            .addNewContainer().withName("app").withImage("registry.k8s.io/pause:3.10").withNewResources()
            .addToRequests("cpu", new Quantity("100m")).endResources().endContainer().endSpec().endTemplate().endSpec().build()).create();
        waitFor(() -> client.pods().inNamespace("bench").withLabel("app", pool).list().getItems().stream()
            .filter(p -> "Running".equals(p.getStatus().getPhase())).count() == 3, 60_000);
        client.nodes().withName(pool + "-spare").patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"unschedulable\":false}}");
        try (MetadataMock imds = MetadataMock.start("spot", "--mock-delay-sec", "2");
            Agent agent = InterruptionE2EIT.agent(client, imds.endpoint(), doomed).start()) {
          // When the notice appears, watched every 10 ms from here (the agent polls every second).
          Imds watcher = new Imds(HttpClient.newHttpClient(), imds.endpoint(), Duration.ofMinutes(5), Duration.ofSeconds(2), Clock.systemUTC());
          long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
          while (!noticeVisible(watcher)) {
            if (System.nanoTime() > giveUp) {
              throw new IllegalStateException("the mock never published the notice; its log: " + java.nio.file.Files.readString(imds.log()));
            }
            Thread.sleep(10);
          }
          long noticeAt = System.nanoTime();
          waitFor(() -> {
            Node n = client.nodes().withName(doomed).get();
            return n.getSpec().getTaints() != null && n.getSpec().getTaints().stream().anyMatch(x -> WellKnownLabels.DISRUPTED_TAINT.equals(x.getKey()));
          }, 30_000);
          toTaint[t] = System.nanoTime() - noticeAt;
          waitFor(() -> client.pods().inNamespace("bench").withField("spec.nodeName", doomed).list().getItems().isEmpty(), 60_000);
          toDrained[t] = System.nanoTime() - noticeAt;
        }
        System.out.printf("  trial %d: tainted %.0f ms, drained %.0f ms after the notice%n", t + 1, toTaint[t] / 1e6, toDrained[t] / 1e6);
        client.apps().deployments().inNamespace("bench").withName(pool).delete();
      }
    }
    System.out.println();
    System.out.println("| notices | notice → tainted + cordoned p50 / p99 / max | notice → drained (3 pods) p50 / p99 / max |");
    System.out.println("|---:|---:|---:|");
    System.out.printf("| %d | %s | %s |%n", trials, stats(toTaint), stats(toDrained));
    System.out.println("\nPoll interval 1 s (±25 % jitter); the notice time is when a 10 ms watcher first saw it in the mock.");
  }

  /** A failed read (the mock sometimes drops a kept-alive connection) counts as "not yet". */
  private static boolean noticeVisible(Imds watcher) {
    try {
      return watcher.metadata("spot/instance-action").get(5, TimeUnit.SECONDS).isPresent();
    } catch (Exception e) {
      return false;
    }
  }

  private static String stats(long[] nanos) {
    long[] s = nanos.clone();
    Arrays.sort(s);
    return String.format("%.0f / %.0f / %.0f ms", BenchReport.percentileMicros(s, 50) / 1000, BenchReport.percentileMicros(s, 99) / 1000,
        s[s.length - 1] / 1e6);
  }

  private static void waitFor(java.util.function.BooleanSupplier condition, long timeoutMillis) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMillis;
    while (!condition.getAsBoolean()) {
      if (System.currentTimeMillis() > deadline) {
        throw new IllegalStateException("timed out");
      }
      Thread.sleep(20);
    }
  }

  private InterruptionBench() {
  }
}
