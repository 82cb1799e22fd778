package dev.dovetail.extender.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dovetail.api.distribution.PodFacts;
import dev.dovetail.extender.Requests;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ExtenderArgsParserTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static ExtenderArgs parse(String json) {
    return ExtenderArgsParser.parse(json.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void readsKubeSchedulersNodeCacheRequest() {
    ExtenderArgs args = ExtenderArgsParser.parse(Requests.load("filter-nodecache.json"));
    assertThat(args.nodeCacheMode()).isTrue();
    assertThat(args.nodes()).extracting(CandidateNode::name).containsExactly("spot-a", "spot-b", "od-a", "od-b", "unknown-node");
    PodFacts pod = args.pod();
    assertThat(pod.namespace()).isEqualTo("shop");
    assertThat(pod.name()).isEqualTo("web-7d9f8c6b5-x2k4q");
    assertThat(pod.uid()).isEqualTo("5b1e0c2a-3f4d-4e5f-9a8b-7c6d5e4f3a2b");
    assertThat(pod.owner()).contains(new PodFacts.Owner("ReplicaSet", "web-7d9f8c6b5", "0a1b2c3d-0000-4000-8000-000000000001"));
    assertThat(pod.mirror()).isFalse();
    assertThat(pod.capacityTypePinned()).isFalse();
  }

  @Test
  void readsFullNodesAndEchoesThemByteForByte() throws Exception {
    byte[] body = Requests.load("filter-nodes.json");
    ExtenderArgs args = ExtenderArgsParser.parse(body);
    assertThat(args.nodeCacheMode()).isFalse();
    assertThat(args.nodes()).extracting(CandidateNode::name).containsExactly("spot-a", "od-a");
    assertThat(args.nodes().get(0).labels()).containsEntry("karpenter.sh/capacity-type", "spot");

    byte[] reply = Responses.filter(new FilterResult(List.of(args.nodes().get(1)), Map.of(), Map.of("spot-a", "why"), ""), args);
    JsonNode echoed = JSON.readTree(reply).at("/Nodes/items/0");
    assertThat(echoed).isEqualTo(JSON.readTree(body).at("/Nodes/items/1"));
    assertThat(echoed.at("/metadata/labels/note").asText()).isEqualTo("café – unicode survives");
    assertThat(JSON.readTree(reply).get("NodeNames").isNull()).isTrue();
  }

  @Test
  void topLevelKeysAreCaseInsensitiveAndUnknownKeysIgnored() {
    ExtenderArgs args = parse("{\"pod\":{\"metadata\":{\"name\":\"p\",\"namespace\":\"n\"}},\"nodenames\":[\"a\"],\"Extra\":{\"x\":[1,2]}}");
    assertThat(args.pod().name()).isEqualTo("p");
    assertThat(args.nodes()).extracting(CandidateNode::name).containsExactly("a");
  }

  @Test
  void anEmptyNodeListIsValid() {
    assertThat(parse("{\"Pod\":{\"metadata\":{\"name\":\"p\"}},\"Nodes\":null,\"NodeNames\":[]}").nodes()).isEmpty();
  }

  @Test
  void capacityTypeSelectorsAndAffinityPinThePod() {
    assertThat(parse("{\"Pod\":{\"metadata\":{\"name\":\"p\"},\"spec\":{\"nodeSelector\":{\"karpenter.sh/capacity-type\":\"spot\"}}},"
        + "\"NodeNames\":[]}").pod().capacityTypePinned()).isTrue();
    assertThat(parse("{\"Pod\":{\"metadata\":{\"name\":\"p\"},\"spec\":{\"affinity\":{\"nodeAffinity\":{"
        + "\"requiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelectorTerms\":[{\"matchExpressions\":["
        + "{\"key\":\"topology.kubernetes.io/zone\",\"operator\":\"In\",\"values\":[\"a\"]},"
        + "{\"key\":\"eks.amazonaws.com/capacityType\",\"operator\":\"In\",\"values\":[\"ON_DEMAND\"]}]}]}}}}},"
        + "\"NodeNames\":[]}").pod().capacityTypePinned()).isTrue();
    assertThat(parse("{\"Pod\":{\"metadata\":{\"name\":\"p\"},\"spec\":{\"affinity\":{\"nodeAffinity\":{"
        + "\"preferredDuringSchedulingIgnoredDuringExecution\":[{\"weight\":1,\"preference\":{\"matchExpressions\":["
        + "{\"key\":\"karpenter.sh/capacity-type\",\"operator\":\"In\",\"values\":[\"spot\"]}]}}]}}}},"
        + "\"NodeNames\":[]}").pod().capacityTypePinned()).as("a preference does not pin").isFalse();
  }

  @Test
  void mirrorPodsAndStatefulSetOrdinalsAreRecognised() {
    PodFacts mirror = parse("{\"Pod\":{\"metadata\":{\"name\":\"etcd-n1\",\"namespace\":\"kube-system\","
        + "\"annotations\":{\"kubernetes.io/config.mirror\":\"abc\"}}},\"NodeNames\":[]}").pod();
    assertThat(mirror.mirror()).isTrue();
    PodFacts db = parse("{\"Pod\":{\"metadata\":{\"name\":\"db-12\",\"namespace\":\"n\",\"ownerReferences\":["
        + "{\"kind\":\"StatefulSet\",\"name\":\"db\",\"uid\":\"u\",\"controller\":true}]}},\"NodeNames\":[]}").pod();
    assertThat(db.statefulSetOrdinal()).hasValue(12);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "empty body                 |                                                   | empty request body",
      "not JSON                   | hello                                             | malformed JSON at line 1",
      "truncated                  | {\"Pod\":{\"metadata\":{\"name\":\"p\"}              | malformed JSON",
      "array instead of object    | []                                                | must be a JSON object",
      "no pod                     | {\"NodeNames\":[\"a\"]}                           | Pod is missing or null",
      "null pod                   | {\"Pod\":null,\"NodeNames\":[\"a\"]}              | Pod is missing or null",
      "pod is a string            | {\"Pod\":\"p\",\"NodeNames\":[]}                  | Pod must be an object, not a string",
      "pod without name           | {\"Pod\":{\"metadata\":{}},\"NodeNames\":[]}      | Pod.metadata.name is missing",
      "name is a number           | {\"Pod\":{\"metadata\":{\"name\":7}},\"NodeNames\":[]} | Pod.metadata.name must be a string, not a number",
      "no nodes at all            | {\"Pod\":{\"metadata\":{\"name\":\"p\"}}}           | neither NodeNames nor Nodes is set",
      "node names not an array    | {\"Pod\":{\"metadata\":{\"name\":\"p\"}},\"NodeNames\":\"a\"} | NodeNames must be an array",
      "node name not a string     | {\"Pod\":{\"metadata\":{\"name\":\"p\"}},\"NodeNames\":[1]} | each of NodeNames must be a string",
      "empty node name            | {\"Pod\":{\"metadata\":{\"name\":\"p\"}},\"NodeNames\":[\"\"]} | NodeNames contains an empty name",
      "node item without name     | {\"Pod\":{\"metadata\":{\"name\":\"p\"}},\"Nodes\":{\"items\":[{\"metadata\":{}}]}} | has no metadata.name",
      "trailing garbage           | {\"Pod\":{\"metadata\":{\"name\":\"p\"}},\"NodeNames\":[]} x | malformed JSON"})
  void malformedRequestsGetAReason(String what, String body, String message) {
    byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> ExtenderArgsParser.parse(bytes)).as(what).isInstanceOf(BadRequest.class).hasMessageContaining(message);
  }

  @Test
  void repliesUseTheCanonicalKeys() throws Exception {
    ExtenderArgs args = parse("{\"Pod\":{\"metadata\":{\"name\":\"p\"}},\"NodeNames\":[\"a\",\"b\"]}");
    JsonNode filter = JSON.readTree(Responses.filter(new FilterResult(List.of(args.nodes().get(0)), Map.of(),
        Map.of("b", "dovetail: needs spot"), ""), args));
    assertThat(filter.get("NodeNames")).hasSize(1);
    assertThat(filter.get("NodeNames").get(0).asText()).isEqualTo("a");
    assertThat(filter.get("Nodes").isNull()).isTrue();
    assertThat(filter.get("FailedNodes").isObject()).isTrue();
    assertThat(filter.at("/FailedAndUnresolvableNodes/b").asText()).isEqualTo("dovetail: needs spot");
    assertThat(filter.get("Error").asText()).isEmpty();

    JsonNode nothing = JSON.readTree(Responses.filter(new FilterResult(List.of(), Map.of(), Map.of(), ""), args));
    assertThat(nothing.get("NodeNames").isArray()).as("never null: null would mean no node fits").isTrue();

    JsonNode scores = JSON.readTree(Responses.prioritize(List.of(new HostPriority("a", 10), new HostPriority("b", 0))));
    assertThat(scores.isArray()).isTrue();
    assertThat(scores.get(0).get("Host").asText()).isEqualTo("a");
    assertThat(scores.get(0).get("Score").asInt()).isEqualTo(10);
    assertThat(scores).as("a zero score is the same as no entry, and is left out").hasSize(1);
    assertThat(JSON.readTree(Responses.prioritize(List.of(new HostPriority("c", 0)))).isArray()).isTrue();
    // Shifted so the lowest is 0: the same differences, so the same ranking once kube-scheduler adds them up.
    JsonNode shifted = JSON.readTree(Responses.prioritize(List.of(new HostPriority("x", 4), new HostPriority("y", 9), new HostPriority("z", 4),
        new HostPriority("w", 6))));
    assertThat(shifted).hasSize(2);
    assertThat(shifted.get(0).get("Host").asText()).isEqualTo("y");
    assertThat(shifted.get(0).get("Score").asInt()).isEqualTo(5);
    assertThat(shifted.get(1).get("Host").asText()).isEqualTo("w");
    assertThat(shifted.get(1).get("Score").asInt()).isEqualTo(2);
    assertThat(JSON.readTree(Responses.prioritize(List.of(new HostPriority("p", 7), new HostPriority("q", 7))))).as("all equal: no opinion").isEmpty();
  }
}
