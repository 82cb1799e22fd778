package dev.dovetail.provisioner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.karpenter.v1.Disruption;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.cloud.aws.FakeEc2;
import dev.dovetail.testkit.ControlPlane;
import dev.dovetail.testkit.Ports;
import dev.dovetail.testkit.RepoPaths;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithCluster;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The provisioner (the shipped jar, AWS provider, on moto) killed with SIGKILL while it launches, over
 * and over: no NodeClaim ever gets a second instance, the last start converges with every pod running,
 * and no instance is left without its NodeClaim, counted before the provisioner's garbage collection
 * could have terminated one and again after it has run.
 *
 * <p>The provisioner talks to moto through a recording front ({@link FakeEc2#recorder}) that holds each
 * CreateFleet answer back for {@link #FLEET_ANSWER} after moto launched the instance, as EC2 answers an
 * instant fleet a second or more after the instance exists. A kill in that time lands in the dangerous
 * window: the instance exists, tagged for its NodeClaim, and the claim's status does not name it. The
 * test counts those kills from the front's log (moto had launched before the kill, the answer was still
 * held when the process was dead) and the claims' status (no provider ID right after the kill), and
 * requires {@link #MIN_IN_WINDOW_SHARE} of the trials among them; it then checks each such claim ended
 * up on that very instance, with no second CreateFleet for it.
 *
 * <p>Kill times come from a seed, printed; {@code -Ddovetail.crash.seed} (or {@code DOVETAIL_CRASH_SEED})
 * runs the same ones again. Odd trials kill at a random time 1.5-12 s after start (anywhere from start-up,
 * which takes some 8 s to the first CreateFleet on 2 busy cores, to registration); even trials wait for a CreateFleet of theirs that moto has carried out and kill at a
 * random time within the first half of its held answer. Trials: {@code -Ddovetail.crash.trials} (default 30: some 6 minutes on 2 cores, each trial a JVM start).
 */
@WithCluster(schedulerConfig = "manifests/scheduler/local-extender.yaml")
class LaunchCrashE2EIT {
  private static final Path JAR = RepoPaths.root().resolve("provisioner/target/dovetail-provisioner.jar");
  private static final String CLUSTER = "crash-test";
  /** How long the front holds a CreateFleet answer after moto launched its instance ({@code -Ddovetail.crash.fleet-answer-ms}). */
  private static final Duration FLEET_ANSWER = Duration.ofMillis(Long.getLong("dovetail.crash.fleet-answer-ms", 1500));
  /** The share of trials whose kill must land between a CreateFleet and its claim's status write. */
  private static final double MIN_IN_WINDOW_SHARE = 0.3;
  /** Longer than the test: while it holds, the garbage collection cannot terminate an instance. */
  private static final String NO_COLLECTION = "1h";
  private static AwsWorld world;
  private static FakeEc2 front;

  @BeforeAll
  static void start(KubernetesClient client) throws Exception {
    world = AwsWorld.start().bridge(client, CLUSTER);
    front = FakeEc2.recorder(world.moto.endpoint());
    front.holdAnswers(FLEET_ANSWER, "CreateFleet");
  }

  @AfterAll
  static void stop() throws Exception {
    if (front != null) {
      front.close();
    }
    if (world != null) {
      world.close();
    }
  }

  /** One start and SIGKILL of the provisioner: when, and the provider ID of every claim right after (null: none yet). */
  private record Kill(int trial, boolean aimed, long afterMs, Instant started, Instant killed, Instant dead, Map<String, String> providerIds) {
    long killedAfterMs() {
      return Duration.between(started, killed).toMillis();
    }
  }

  @Test
  void killingTheProvisionerMidLaunchNeverDoublesOrLeaksAnInstance(ControlPlane cp, KubernetesClient client, TestNamespace ns) throws Exception {
    int trials = Integer.getInteger("dovetail.crash.trials", 30);
    long seed = Optional.ofNullable(System.getProperty("dovetail.crash.seed")).or(() -> Optional.ofNullable(System.getenv("DOVETAIL_CRASH_SEED")))
        .map(Long::parseLong).orElseGet(() -> new SecureRandom().nextLong());
    System.out.printf("[crash] seed %d (run these kill times again with -Ddovetail.crash.seed=%d)%n", seed, seed);
    Random random = new Random(seed);
    String label = Fixtures.unique("crash");
    client.resources(EC2NodeClass.class).resource(AwsWorld.nodeClass(label)).create();
    // One pod per node, so every new replica needs a launch. Nothing is consolidated: a node a kill left empty stays, so
    // every instance termination the test could see would be the garbage collector's.
    client.resources(NodePool.class).resource(Fixtures.withDisruption(Fixtures.nodePool(label, label, label, null, null,
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_CATEGORY, "c", "m"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_CPU, "2"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.ARCH, "amd64"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, "on-demand")),
        new Disruption("Never", Disruption.ConsolidationPolicy.WhenEmpty, null))).create();
    client.apps().deployments().resource(Fixtures.deployment(ns.name(), "web", 0, "1200m", "1Gi", label)).create();

    List<Kill> kills = new ArrayList<>();
    List<Path> logs = new ArrayList<>();
    for (int trial = 1; trial <= trials; trial++) {
      client.apps().deployments().inNamespace(ns.name()).withName("web").scale(trial);
      boolean aimed = trial % 2 == 0;
      long afterMs = aimed ? random.nextLong(Math.max(1, FLEET_ANSWER.toMillis() / 2)) : random.nextLong(1500, 12_000);
      Instant started = Instant.now();
      Process provisioner = start(cp, ns, "crash-" + trial, NO_COLLECTION, logs);
      if (aimed) {
        // Until moto has launched an instance for this process and its answer is held, then a little more. A process
        // may have nothing to launch: its new replica went to a node launched before (a start before it launched more
        // than the pods needed, not knowing what an earlier start had launched for); then it is killed as it idles.
        int replicas = trial;
        await("trial " + trial + ": a CreateFleet carried out, or every pod running").atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(20)).until(() -> launchHeld(started) || client.pods().inNamespace(ns.name()).list().getItems().stream()
                .filter(p -> "Running".equals(p.getStatus().getPhase())).count() == replicas);
      }
      assertThat(provisioner.waitFor(afterMs, TimeUnit.MILLISECONDS)).as("the provisioner exited by itself (see " + logs.get(logs.size() - 1) + ")")
          .isFalse();
      Instant killed = Instant.now();
      provisioner.destroyForcibly().waitFor();
      Instant dead = Instant.now();
      Map<String, String> providerIds = new HashMap<>();
      ProvisioningE2EIT.claimsOf(client, label).forEach(c -> providerIds.put(c.getMetadata().getName(),
          c.getStatus() == null ? null : c.getStatus().providerID()));
      kills.add(new Kill(trial, aimed, afterMs, started, killed, dead, providerIds));
      assertNoClaimHasTwoInstances();
    }

    // The kills that landed in the window: a CreateFleet of the killed process had launched on moto before the kill,
    // its answer was still held when the process was dead, and its claim's status named no instance.
    await("the held answers sent").atMost(FLEET_ANSWER.multipliedBy(4).plusSeconds(5)).until(() -> front.held().isEmpty());
    List<FakeEc2.Call> fleets = front.calls("CreateFleet");
    Map<Kill, List<FakeEc2.Call>> inWindow = new TreeMap<>((a, b) -> Integer.compare(a.trial(), b.trial()));
    for (Kill k : kills) {
      List<FakeEc2.Call> cut = fleets.stream().filter(c -> !c.received().isBefore(k.started()) && c.done().isBefore(k.killed())
          && !c.launched().isEmpty() && (c.answered() == null || c.answered().isAfter(k.dead()))).toList();
      for (FakeEc2.Call c : cut) {
        assertThat(k.providerIds()).as("trial %d: claim %s of a CreateFleet answered after the kill", k.trial(), c.claim())
            .containsKey(c.claim());
        assertThat(k.providerIds().get(c.claim())).as("trial %d: status of %s before its CreateFleet was answered", k.trial(), c.claim()).isNull();
      }
      if (!cut.isEmpty()) {
        inWindow.put(k, cut);
      }
    }
    System.out.printf("[crash] %d kills, by seconds after start: random %s, aimed at a held CreateFleet answer %s%n", trials,
        kills.stream().filter(k -> !k.aimed()).collect(Collectors.groupingBy(k -> k.killedAfterMs() / 1000 + "s", TreeMap::new, Collectors.counting())),
        kills.stream().filter(Kill::aimed).collect(Collectors.groupingBy(k -> k.killedAfterMs() / 1000 + "s", TreeMap::new, Collectors.counting())));
    System.out.printf("[crash] %d kills landed between CreateFleet and the claim's status write (%d of them random; %d aimed kills found "
        + "nothing to launch and were not in it): trials %s; %d random kills came before the process's first CreateFleet%n", inWindow.size(),
        inWindow.keySet().stream().filter(k -> !k.aimed()).count(), kills.stream().filter(k -> k.aimed() && !inWindow.containsKey(k)).count(),
        inWindow.keySet().stream().map(Kill::trial).toList(), kills.stream().filter(k -> !k.aimed() && fleets.stream()
            .noneMatch(c -> !c.received().isBefore(k.started()) && c.received().isBefore(k.killed()))).count());
    assertThat(inWindow.size()).as("kills that landed between CreateFleet and the status write, of %d", trials).isGreaterThanOrEqualTo(
        (int) Math.ceil(MIN_IN_WINDOW_SHARE * trials));

    // Before any garbage collection could terminate an instance (every start so far had a grace of an hour):
    // each instance is tagged for a NodeClaim that exists.
    Set<String> claimNames = ProvisioningE2EIT.claimsOf(client, label).stream().map(c -> c.getMetadata().getName()).collect(Collectors.toSet());
    List<String[]> orphansAfterKills = live().stream().filter(i -> !claimNames.contains(i[1])).toList();
    System.out.printf("[crash] after the kills: %d live instances, %d without a NodeClaim%n", live().size(), orphansAfterKills.size());
    assertThat(orphansAfterKills).as("instances whose NodeClaim does not exist, before any collection").isEmpty();

    // The last start converges, still unable to collect: every pod runs, every claim is on its instance, and the live
    // instances are exactly the claims' instances.
    Process last = start(cp, ns, "final", NO_COLLECTION, logs);
    try {
      await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(2)).untilAsserted(() -> {
        assertThat(client.pods().inNamespace(ns.name()).list().getItems()).as(() -> ClusterDump.of(client, ns.name()))
            .hasSize(trials).extracting(Pod::getStatus).extracting(s -> s.getPhase()).containsOnly("Running");
        assertThat(ProvisioningE2EIT.claimsOf(client, label)).allSatisfy(c -> assertThat(c.getStatus()).isNotNull()
            .satisfies(s -> assertThat(s.providerID()).as(c.getMetadata().getName()).isNotNull()));
      });
      assertThat(orphans(client, label)).as("live instances no NodeClaim names, before any collection").isEmpty();
    } finally {
      last.destroyForcibly().waitFor();
    }
    assertNoClaimHasTwoInstances();
    assertThat(front.calls("TerminateInstances")).as("instances terminated").isEmpty();

    // Each claim a kill left with an instance but no status is on that very instance now: adopted, not launched again.
    List<NodeClaim> claims = ProvisioningE2EIT.claimsOf(client, label);
    // Every pod ran before the last process was stopped: a claim without an instance now is one more than the pods needed
    // (said plainly here rather than as a NullPointerException below).
    assertThat(claims).as("NodeClaims once every pod ran; one without an instance is a launch no pod needed")
        .allSatisfy(c -> assertThat(c.getStatus()).as(c.getMetadata().getName()).isNotNull()
            .satisfies(s -> assertThat(s.providerID()).as(c.getMetadata().getName()).isNotNull()));
    Map<String, String> providerIdOf = claims.stream().collect(Collectors.toMap(c -> c.getMetadata().getName(), c -> c.getStatus().providerID()));
    List<FakeEc2.Call> allFleets = front.calls("CreateFleet");
    for (Map.Entry<Kill, List<FakeEc2.Call>> e : inWindow.entrySet()) {
      for (FakeEc2.Call c : e.getValue()) {
        assertThat(providerIdOf.get(c.claim())).as("trial %d: the instance of %s", e.getKey().trial(), c.claim()).endsWith("/" + c.launched().get(0));
        assertThat(allFleets).as("CreateFleet calls for %s after the one trial %d cut off", c.claim(), e.getKey().trial())
            .noneMatch(later -> later.seq() > c.seq() && c.claim().equals(later.claim()));
      }
    }

    // Now let the garbage collection run (a grace of seconds), twice over: it finds nothing to terminate.
    long before = front.nextSeq();
    Process collector = start(cp, ns, "collector", "5s", logs);
    try {
      await("two garbage-collection passes").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
          .until(() -> front.calls("DescribeInstances").stream().filter(c -> c.seq() >= before && c.succeeded() && c.instanceIds().isEmpty()
              && c.filterValues("tag:karpenter.sh/nodeclaim").isEmpty()).count() >= 2);
      assertThat(orphans(client, label)).as("live instances no NodeClaim names, after collection").isEmpty();
    } finally {
      collector.destroyForcibly().waitFor();
    }
    assertThat(front.calls("TerminateInstances")).as("instances terminated").isEmpty();
    assertNoClaimHasTwoInstances();

    List<String[]> all = world.instances(CLUSTER);
    System.out.printf("[crash] %d trials: %d CreateFleet calls in the trials, %d instances in all, %d NodeClaims, %d adoptions logged, none terminated%n", trials,
        fleets.size(), all.size(), claims.size(), count(logs, "adopting it"));
  }

  /** Whether moto has launched an instance for a CreateFleet that came after {@code since}, and the front holds its answer. */
  private static boolean launchHeld(Instant since) {
    return front.held().stream().anyMatch(c -> "CreateFleet".equals(c.action()) && !c.received().isBefore(since) && !c.launched().isEmpty());
  }

  /** Live instances of the cluster on moto, as (instance id, NodeClaim tag, state). */
  private static List<String[]> live() throws Exception {
    return world.instances(CLUSTER).stream().filter(i -> !"terminated".equals(i[2]) && !"shutting-down".equals(i[2])).toList();
  }

  /** Live instances no NodeClaim's status names. */
  private static List<String> orphans(KubernetesClient client, String label) throws Exception {
    Set<String> named = ProvisioningE2EIT.claimsOf(client, label).stream().map(c -> c.getStatus() == null ? null : c.getStatus().providerID())
        .filter(Objects::nonNull).map(id -> id.substring(id.lastIndexOf('/') + 1)).collect(Collectors.toSet());
    return live().stream().map(i -> i[0]).filter(id -> !named.contains(id)).toList();
  }

  private static long count(List<Path> logs, String text) throws IOException {
    long n = 0;
    for (Path log : logs) {
      n += Files.readAllLines(log).stream().filter(l -> l.contains(text)).count();
    }
    return n;
  }

  /** Never two instances, in any state, tagged for one NodeClaim. */
  private static void assertNoClaimHasTwoInstances() throws Exception {
    Map<String, Long> perClaim = world.instances(CLUSTER).stream().collect(Collectors.groupingBy(i -> i[1], Collectors.counting()));
    assertThat(perClaim).allSatisfy((claim, count) -> assertThat(count).as("instances for NodeClaim " + claim).isEqualTo(1L));
  }

  private static Process start(ControlPlane cp, TestNamespace ns, String identity, String collectionGrace, List<Path> logs) throws IOException {
    assertThat(JAR).as("the provisioner jar (built by mvn package)").exists();
    // Under target/, kept with the reports (not piling up in /tmp run after run).
    Path log = Files.createTempFile(Files.createDirectories(JAR.resolveSibling("process-logs")), "provisioner-" + identity + "-", ".log");
    logs.add(log);
    String java = ProcessHandle.current().info().command().orElse("java");
    ProcessBuilder pb = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m", "-jar", JAR.toString(),
        "--kubeconfig=" + cp.kubeconfig(), "--namespace=" + ns.name(), "--cluster-name=" + CLUSTER, "--no-leader-elect",
        "--cloud-provider=aws", "--aws-region=us-east-1", "--aws-endpoint-url=" + front.endpoint(),
        "--cluster-endpoint=https://api.crash.example", "--cluster-ca-bundle=Q0E=", "--garbage-collection-grace=" + collectionGrace,
        "--batch-idle-duration=300ms", "--sim-config-map=",
        "--metrics-port=" + Ports.free(), "--health-probe-port=" + Ports.free(), "--bind-address=127.0.0.1", "--log-format=text")
        .redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("AWS_ACCESS_KEY_ID", "testing");
    pb.environment().put("AWS_SECRET_ACCESS_KEY", "testing");
    return pb.start();
  }

}
