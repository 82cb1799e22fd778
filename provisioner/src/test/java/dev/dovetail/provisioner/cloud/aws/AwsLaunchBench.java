package dev.dovetail.provisioner.cloud.aws;

import com.sun.management.OperatingSystemMXBean;
import dev.dovetail.api.aws.v1.AmiSelectorTerm;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.aws.v1.EC2NodeClassStatus;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeClaimSpec;
import dev.dovetail.api.karpenter.v1.NodeClassReference;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.ResourceRequirements;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.cloud.Instance;
import dev.dovetail.provisioner.cloud.UnavailableOfferings;
import dev.dovetail.testkit.BenchReport;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.services.ec2.model.SpotAllocationStrategy;

/**
 * The AWS provider's launch path without EC2's latency: N NodeClaims launched at once against the fake
 * EC2 endpoint (zero delay) through the real SDK on its Netty client. Reports launches per second,
 * per-launch latency, heap and live threads, and checks every claim got exactly one instance.
 * Run by scripts/bench-provisioner aws-launch.
 */
public final class AwsLaunchBench {
  public static void main(String[] args) throws Exception {
    List<Integer> sizes = Arrays.stream((args.length > 0 ? args[0] : "1000").split(",")).map(Integer::parseInt).toList();
    System.out.println("AWS launch path (fake EC2, zero delay) on " + BenchReport.machine());
    System.setProperty("aws.accessKeyId", "testing");
    System.setProperty("aws.secretAccessKey", "testing");
    try (FakeEc2 ec2 = FakeEc2.start(); AwsClients aws = new AwsClients(Optional.of("us-east-1"), Optional.of(ec2.endpoint()))) {
      EC2NodeClass nodeClass = AwsCloudProviderMockTest.nodeClass("bench", List.of(new AmiSelectorTerm(null, null, "ami-0abc", null, null, null)));
      nodeClass.setStatus(new EC2NodeClassStatus(List.of(new EC2NodeClassStatus.Subnet("subnet-a", "us-east-1a", "use1-az1"),
          new EC2NodeClassStatus.Subnet("subnet-b", "us-east-1b", "use1-az2"), new EC2NodeClassStatus.Subnet("subnet-c", "us-east-1c", "use1-az4")),
          List.of(new EC2NodeClassStatus.SecurityGroup("sg-1", "nodes")), List.of(new EC2NodeClassStatus.Ami("ami-0abc", "al2023", null,
              List.of(new EC2NodeClassStatus.AmiRequirement(WellKnownLabels.ARCH, "In", List.of("amd64"))))), List.of(), "profile", List.of()));
      AwsCloudProvider provider = new AwsCloudProvider(aws, new AwsCloudProvider.Settings("bench", new UserData.Cluster("bench", "https://x", "Q0E=",
          "10.100.0.0/16"), "1.34", SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED), Catalog.bundled(),
          new UnavailableOfferings(), Clock.systemUTC());
      run(provider, ec2, nodeClass, 1000, false);  // warm-up: JIT, connection pool, launch template
      System.out.println();
      System.out.println("| concurrent launches | wall time | launches/s | latency p50 / p99 | heap used / live after GC (fake EC2's state included) | live threads (idle → after) | CPU per launch: provider / fake EC2 | instances per claim |");
      System.out.println("|---:|---:|---:|---:|---:|---:|---:|---|");
      for (int n : sizes) {
        run(provider, ec2, nodeClass, n, true);
      }
    }
  }

  private static void run(AwsCloudProvider provider, FakeEc2 ec2, EC2NodeClass nodeClass, int n, boolean report) throws Exception {
    List<NodeClaim> claims = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      claims.add(claim(i));
    }
    System.gc();
    int threadsBefore = Thread.activeCount();
    long[] latencies = new long[n];
    var os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long cpuStart = os.getProcessCpuTime();
    long fakeStart = fakeCpu();
    long start = System.nanoTime();
    List<CompletableFuture<Instance>> launches = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int k = i;
      long t0 = System.nanoTime();
      launches.add(provider.create(claims.get(i), nodeClass).toCompletableFuture().whenComplete((ok, e) -> latencies[k] = System.nanoTime() - t0));
    }
    CompletableFuture.allOf(launches.toArray(CompletableFuture[]::new)).get(5, TimeUnit.MINUTES);
    long wall = System.nanoTime() - start;
    long cpu = os.getProcessCpuTime() - cpuStart;
    long fake = fakeCpu() - fakeStart;
    int threadsAfter = Thread.activeCount();
    long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    System.gc();
    long live = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    boolean exactlyOne = claims.stream().allMatch(c -> ec2.liveFor(c.getMetadata().getName()).size() == 1);
    if (!report) {
      return;
    }
    Arrays.sort(latencies);
    System.out.printf("| %,d | %.2f s | %,.0f | %.0f / %.0f ms | %d / %d MiB | %d → %d | %.2f / %.2f ms | %s |%n", n, wall / 1e9, n / (wall / 1e9),
        BenchReport.percentileMicros(latencies, 50) / 1000, BenchReport.percentileMicros(latencies, 99) / 1000, heap >> 20, live >> 20, threadsBefore,
        threadsAfter, (cpu - fake) / 1e6 / n, fake / 1e6 / n,
        exactlyOne ? "exactly 1 each" : "NOT exactly one each");
  }

  /** CPU time of the fake's threads (Vert.x's); the rest of the process is the provider, the SDK and its Netty loop. */
  private static long fakeCpu() {
    var threads = ManagementFactory.getThreadMXBean();
    long sum = 0;
    for (var info : threads.getThreadInfo(threads.getAllThreadIds())) {
      if (info != null && info.getThreadName().startsWith("vert.x-")) {
        sum += Math.max(0, threads.getThreadCpuTime(info.getThreadId()));
      }
    }
    return sum;
  }

  private static NodeClaim claim(int i) {
    NodeClaim c = new NodeClaim();
    c.setMetadata(new ObjectMetaBuilder().withName("bench-" + i + "-" + UUID.randomUUID().toString().substring(0, 6)).withUid(UUID.randomUUID().toString())
        .withLabels(Map.of(WellKnownLabels.NODEPOOL, "bench")).build());
    c.setSpec(new NodeClaimSpec(null, null, List.of(NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_CATEGORY, "c", "m", "r"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, "spot", "on-demand")),
        new ResourceRequirements(Map.of("cpu", new Quantity("2"))), NodeClassReference.ec2NodeClass("bench"), null, null));
    return c;
  }

  private AwsLaunchBench() {
  }
}
