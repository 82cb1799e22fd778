package dev.dovetail.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The E2E cluster's kube-scheduler really calls an HTTP extender configured by a
 * KubeSchedulerConfiguration (the plumbing the Dovetail extender relies on): the probe's filter
 * verdicts decide where pods land and its reasons reach the pod's FailedScheduling event.
 */
@WithCluster(schedulerConfig = "testkit/src/test/resources/extender-probe-scheduler.yaml")
class SchedulerExtenderE2EIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<JsonNode> FILTER_CALLS = new CopyOnWriteArrayList<>();
  private static HttpServer probe;

  @BeforeAll
  static void startProbe(KubernetesClient client) throws IOException {
    probe = HttpServer.create(new InetSocketAddress("127.0.0.1", 18898), 0);
    probe.createContext("/probe/filter", exchange -> filter(client, exchange));
    probe.createContext("/probe/prioritize", exchange -> reply(exchange, JSON.createArrayNode()));
    probe.start();
  }

  @AfterAll
  static void stopProbe() {
    probe.stop(0);
  }

  /** Passes every node except those labelled dovetail.dev/reject=true, which get a readable reason. */
  private static void filter(KubernetesClient client, HttpExchange exchange) throws IOException {
    JsonNode args = JSON.readTree(exchange.getRequestBody());
    FILTER_CALLS.add(args);
    ObjectNode result = JSON.createObjectNode();
    ArrayNode passed = result.putArray("NodeNames");
    ObjectNode failed = result.putObject("FailedAndUnresolvableNodes");
    for (JsonNode name : args.get("NodeNames")) {
      var node = client.nodes().withName(name.asText()).get();
      if (node != null && "true".equals(node.getMetadata().getLabels().get("dovetail.dev/reject"))) {
        failed.put(name.asText(), "capacity type not allowed for this replica (probe)");
      } else {
        passed.add(name.asText());
      }
    }
    result.putObject("FailedNodes");
    result.put("Error", "");
    reply(exchange, result);
  }

  private static void reply(HttpExchange exchange, JsonNode body) throws IOException {
    byte[] bytes = JSON.writeValueAsBytes(body);
    exchange.getResponseHeaders().add("Content-Type", "application/json");
    exchange.sendResponseHeaders(200, bytes.length);
    exchange.getResponseBody().write(bytes);
    exchange.close();
  }

  @Test
  void extenderFilterDecidesPlacementAndExplainsRejections(KubernetesClient client, TestNamespace ns) {
    String rejected = ns.unique("rejected");
    String accepted = ns.unique("accepted");
    client.nodes().resource(KwokNodes.node(rejected, Map.of("dovetail.dev/test", ns.name(), "dovetail.dev/reject", "true"))).create();
    client.nodes().resource(KwokNodes.node(accepted, Map.of("dovetail.dev/test", ns.name()))).create();

    for (int i = 0; i < 3; i++) {
      client.pods().inNamespace(ns.name()).resource(pod("placed-" + i, ns)).create();
    }
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
        assertThat(client.pods().inNamespace(ns.name()).list().getItems()).hasSize(3)
            .allSatisfy(p -> assertThat(p.getSpec().getNodeName()).isEqualTo(accepted)));
    assertThat(FILTER_CALLS).anySatisfy(call -> {
      assertThat(call.at("/Pod/metadata/name").asText()).isEqualTo("placed-0");
      assertThat(call.get("Nodes").isNull()).as("nodeCacheCapable sends names only").isTrue();
    });

    // With the only acceptable node cordoned, the probe's reason reaches the user.
    client.nodes().withName(accepted).edit(n -> {
      n.getSpec().setUnschedulable(true);
      return n;
    });
    client.pods().inNamespace(ns.name()).resource(pod("stuck", ns)).create();
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      List<Event> events = client.events().v1().events().inNamespace(ns.name()).list().getItems();
      assertThat(events).anySatisfy(e -> {
        assertThat(e.getRegarding().getName()).isEqualTo("stuck");
        assertThat(e.getReason()).isEqualTo("FailedScheduling");
        assertThat(e.getNote()).contains("capacity type not allowed for this replica (probe)");
      });
    });
    client.nodes().withName(rejected).delete();
    client.nodes().withName(accepted).delete();
  }

  private static Pod pod(String name, TestNamespace ns) {
    return new PodBuilder().withNewMetadata().withName(name).withNamespace(ns.name()).endMetadata()
        .withNewSpec().addToNodeSelector("dovetail.dev/test", ns.name())
        .addNewContainer().withName("main").withImage("registry.k8s.io/pause:3.10").endContainer()
        .endSpec().build();
  }
}
