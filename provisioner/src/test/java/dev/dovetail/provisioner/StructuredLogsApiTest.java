package dev.dovetail.provisioner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.testing.Expect;
import dev.dovetail.provisioner.testing.Kubelet;
import dev.dovetail.provisioner.testing.NodeClasses;
import dev.dovetail.provisioner.testing.NodePools;
import dev.dovetail.provisioner.testing.Pods;
import dev.dovetail.provisioner.testing.Sweep;
import dev.dovetail.testkit.ControlPlane;
import dev.dovetail.testkit.RepoPaths;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithApiServer;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The provisioner's log as it runs deployed (its shaded jar, the Deployment's JVM flags) on a real API server:
 * every line is one JSON object with Karpenter's fields ({@code time}, {@code level}, {@code logger}, {@code message}),
 * and the lines of a NodeClaim's way (created for a pending pod, launched, registered, initialized, drained and
 * terminated) carry the controller, a UUID {@code reconcileID} and the objects under Karpenter's keys:
 * {@code "NodeClaim":{"name":...}}, {@code "NodePool"}, {@code "Node"}, {@code "Pod":{"name":...,"namespace":...}}.
 * The level comes from {@code DOVETAIL_LOG_LEVEL} or {@code --log-level}, the flag winning over the variable.
 */
@WithApiServer
class StructuredLogsApiTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> LEVELS = Set.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR");
  private static final String UUID = "\\p{XDigit}{8}-\\p{XDigit}{4}-\\p{XDigit}{4}-\\p{XDigit}{4}-\\p{XDigit}{12}";

  static Stream<Arguments> levels() {
    return Stream.of(
        Arguments.of("DOVETAIL_LOG_LEVEL=DEBUG", Map.of("DOVETAIL_LOG_LEVEL", "DEBUG"), List.of(), "DEBUG"),
        Arguments.of("--log-level=DEBUG", Map.of(), List.of("--log-level=DEBUG"), "DEBUG"),
        Arguments.of("--log-level=INFO over DOVETAIL_LOG_LEVEL=DEBUG", Map.of("DOVETAIL_LOG_LEVEL", "DEBUG"), List.of("--log-level=INFO"), "INFO"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("levels")
  void everyLineIsJsonAndANodeClaimsLinesNameItsPoolNodePodControllerAndReconcile(String label, Map<String, String> env,
      List<String> levelFlag, String level, ControlPlane cp, KubernetesClient client, TestNamespace ns) throws Exception {
    Sweep.all(client);
    List<String> args = new ArrayList<>(List.of("--cloud-provider=sim", "--sim-boot-delay=0s", "--sim-config-map=", "--no-leader-elect",
        "--cluster-name=structured-logs", "--batch-idle-duration=300ms"));
    args.addAll(levelFlag);
    Path log;
    String pool;
    String claim;
    String node;
    Pod pod;
    try (DeployedJar provisioner = DeployedJar.start(client, cp.kubeconfig(), "provisioner", "manifests/provisioner/deployment.yaml",
        RepoPaths.root().resolve("provisioner/target/dovetail-provisioner.jar"), args, env)) {
      log = provisioner.log();
      EC2NodeClass nodeClass = Expect.readyNodeClass(client, NodeClasses.nodeClass());
      pool = client.resource(NodePools.nodePool(p -> p.nodeClass(nodeClass.getMetadata().getName()))).create().getMetadata().getName();
      pod = Kubelet.unschedulable(client, Pods.pod(Pods.in(ns.name()), Pods.requests("500m", "512Mi")));

      // Created for the pending pod; the simulated instance registers its Node at once; the test plays its kubelet.
      claim = Expect.eventually("a NodeClaim of " + pool, () -> client.resources(NodeClaim.class).withLabel(WellKnownLabels.NODEPOOL, pool)
          .list().getItems().stream().findFirst(), c -> c.isPresent()).orElseThrow().getMetadata().getName();
      node = Expect.condition(client, claim, ConditionTypes.REGISTERED, Condition.Status.True, null).getStatus().nodeName();
      Pod running = Kubelet.bindAndRun(client, pod, node);
      Kubelet.ready(client, node);
      Expect.condition(client, claim, ConditionTypes.INITIALIZED, Condition.Status.True, null);

      // Deleted: the pod is evicted, its kubelet confirms, the node and the claim go.
      client.resources(NodeClaim.class).withName(claim).delete();
      Expect.eventually("pod " + pod.getMetadata().getName() + " evicted", () -> client.pods().resource(running).get(),
          p -> p.getMetadata().getDeletionTimestamp() != null);
      Kubelet.finishTermination(client, running);
      Expect.gone(client, Node.class, node);
      Expect.gone(client, NodeClaim.class, claim);
      // The claim's last line (its termination) is written before its finalizer goes; the log is read whole once the process ended.
    } finally {
      Sweep.all(client);
    }

    List<JsonNode> lines = parse(log);
    assertThat(lines).as("lines in %s", log).isNotEmpty();
    for (JsonNode line : lines) {
      assertThat(line.path("time").asText()).as("time of %s", line).isNotEmpty();
      Instant.parse(line.path("time").asText());
      assertThat(line.path("level").asText()).as("level of %s", line).isIn(LEVELS);
      assertThat(line.path("logger").asText()).as("logger of %s", line).isNotEmpty();
      assertThat(line.has("message")).as("message of %s", line).isTrue();
      if (line.has("reconcileID")) {
        assertThat(line.path("reconcileID").asText()).as("reconcileID of %s", line).matches(UUID);
        assertThat(line.path("controller").asText()).as("controller of %s", line).isNotEmpty();
      }
    }
    // The configured level: nothing below it, and at DEBUG some DEBUG lines.
    if (level.equals("INFO")) {
      assertThat(lines).as("lines below INFO").noneMatch(l -> Set.of("TRACE", "DEBUG").contains(l.path("level").asText()));
    } else {
      assertThat(lines).as("lines below DEBUG").noneMatch(l -> l.path("level").asText().equals("TRACE"));
      assertThat(lines).as("DEBUG lines").anyMatch(l -> l.path("level").asText().equals("DEBUG"));
    }

    String podName = pod.getMetadata().getName();
    assertThat(lines).as("the provisioner's line creating %s from %s", claim, pool).anyMatch(reconcile("provisioner")
        .and(named("NodeClaim", claim)).and(named("NodePool", pool)));
    assertThat(lines).as("the lifecycle's lines about %s with its pool and node %s", claim, node).anyMatch(reconcile("nodeclaim.lifecycle")
        .and(named("NodeClaim", claim)).and(named("NodePool", pool)).and(named("Node", node)));
    assertThat(lines).as("the termination's lines about %s with its pool and node", claim).anyMatch(reconcile("nodeclaim.termination")
        .and(named("NodeClaim", claim)).and(named("NodePool", pool)).and(named("Node", node)));
    if (level.equals("DEBUG")) {
      assertThat(lines).as("the provisioner's DEBUG line nominating pod %s for %s", podName, claim).anyMatch(reconcile("provisioner")
          .and(debug()).and(pod(ns.name(), podName)).and(named("NodeClaim", claim)).and(named("NodePool", pool)));
      assertThat(lines).as("the termination's DEBUG line evicting pod %s from %s", podName, node).anyMatch(reconcile("nodeclaim.termination")
          .and(debug()).and(pod(ns.name(), podName)).and(named("NodeClaim", claim)).and(named("Node", node)));
    }
  }

  /** Every line of the log, each of which must be one JSON object. */
  private static List<JsonNode> parse(Path log) throws IOException {
    List<JsonNode> lines = new ArrayList<>();
    int number = 0;
    for (String text : Files.readAllLines(log)) {
      number++;
      try {
        JsonNode line = JSON.readTree(text);
        if (line == null || !line.isObject()) {
          fail("line %d of %s is not a JSON object: %s", number, log, text);
        }
        lines.add(line);
      } catch (JsonProcessingException e) {
        fail("line %d of %s is not JSON: %s", number, log, text);
      }
    }
    return lines;
  }

  /** A line of a reconcile by {@code controller}: the controller and a reconcileID. */
  private static Predicate<JsonNode> reconcile(String controller) {
    return l -> controller.equals(l.path("controller").asText()) && l.path("reconcileID").asText().matches(UUID);
  }

  /** The line names the cluster-scoped object as Karpenter does: {@code "<kind>":{"name":"<name>"}}. */
  private static Predicate<JsonNode> named(String kind, String name) {
    return l -> l.path(kind).isObject() && name.equals(l.path(kind).path("name").asText()) && !l.path(kind).has("namespace");
  }

  private static Predicate<JsonNode> pod(String namespace, String name) {
    return l -> l.path("Pod").isObject() && name.equals(l.path("Pod").path("name").asText())
        && namespace.equals(l.path("Pod").path("namespace").asText());
  }

  private static Predicate<JsonNode> debug() {
    return l -> Objects.equals(l.path("level").asText(), "DEBUG");
  }
}
