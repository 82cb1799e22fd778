package dev.dovetail.api.crd;

import static dev.dovetail.api.crd.Edits.all;
import static dev.dovetail.api.crd.Edits.remove;
import static dev.dovetail.api.crd.Edits.set;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.aws.v1.MetadataOptions;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfig;
import dev.dovetail.api.harness.v1.WorkloadDistributionRule;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec;
import dev.dovetail.api.karpenter.v1.Budget;
import dev.dovetail.api.karpenter.v1.Disruption;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.testkit.ControlPlane;
import dev.dovetail.testkit.ProcessResult;
import dev.dovetail.testkit.RepoPaths;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithApiServer;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The generated CRDs on a real kube-apiserver: valid objects are accepted and defaulted like
 * Karpenter's, invalid ones are rejected with a message a user can act on, and kubectl prints the
 * Karpenter columns.
 */
@WithApiServer
class CrdValidationApiTest {
  private static final ObjectMapper YAML = new YAMLMapper();

  private static final String NODEPOOL = "nodepool-general.yaml";
  private static final String NODECLASS = "ec2nodeclass-default.yaml";
  private static final String RULE = "workloaddistributionrule-payments.yaml";
  private static final String CONFIG = "clusterorchestratorconfig.yaml";
  private static final String NODECLAIM = "nodeclaim";
  private static final String RESERVATIONS = "/spec/capacityReservationSelectorTerms";
  private static final String INTERFACES = "/spec/networkInterfaces";
  private static final String RESERVATION_ID_EXCLUSIVE =
      "'id' is mutually exclusive, cannot be set along with other fields in a capacity reservation selector term";
  private static final String INTERFACES_PRIMARY = "networkInterfaces must include a primary interface with interfaceType='interface'";
  private static final String INTERFACES_UNIQUE =
      "networkInterfaces must not have duplicate networkCardIndex and deviceIndex pairs, and can have at most one efa device per network card";
  private static final String LABEL_KEY_LENGTH = "label keys must have a name of at most 63 characters and a prefix of at most 253";

  // ---------------------------------------------------------------- valid objects and defaults

  @Test
  void nodePoolIsAcceptedWithKarpenterDefaults(KubernetesClient client, TestNamespace ns) {
    NodePool pool = create(client, sample("nodepool-gpu.yaml", ns), NodePool.class);
    assertThat(pool.getSpec().disruption()).isEqualTo(new Disruption("0s", Disruption.ConsolidationPolicy.WhenEmptyOrUnderutilized,
        List.of(Budget.nodes("10%"))));
    assertThat(pool.getSpec().template().spec().expireAfter()).isEqualTo("720h");
    assertThat(pool.getSpec().limits()).containsKey("nvidia.com/gpu");

    NodePool general = create(client, sample(NODEPOOL, ns), NodePool.class);
    assertThat(general.getSpec().disruption().consolidateAfter()).isEqualTo("1m");
    assertThat(general.getSpec().disruption().budgets()).hasSize(2);
  }

  @Test
  void nodeClaimIsAcceptedAndItsSpecIsImmutable(KubernetesClient client, TestNamespace ns) {
    NodeClaim claim = create(client, nodeClaim(ns), NodeClaim.class);
    assertThat(claim.getSpec().expireAfter()).isEqualTo("720h");

    ObjectNode changed = toNode(claim);
    set("/spec/expireAfter", "\"24h\"").apply(changed);
    assertThatThrownBy(() -> client.resource(generic(changed)).update())
        .isInstanceOf(KubernetesClientException.class).hasMessageContaining("spec is immutable");
  }

  @Test
  void ec2NodeClassIsAcceptedWithImdsV2Defaults(KubernetesClient client, TestNamespace ns) {
    EC2NodeClass nodeClass = create(client, sample(NODECLASS, ns), EC2NodeClass.class);
    assertThat(nodeClass.getSpec().metadataOptions()).isEqualTo(new MetadataOptions(
        MetadataOptions.Toggle.ENABLED, MetadataOptions.Toggle.DISABLED, 1L, MetadataOptions.Tokens.REQUIRED));
  }

  @Test
  void distributionRuleIsAcceptedWithDefaults(KubernetesClient client, TestNamespace ns) {
    WorkloadDistributionRule rule = create(client, sample("workloaddistributionrule-cluster.yaml", ns), WorkloadDistributionRule.class);
    assertThat(rule.getSpec().baseOnDemandCapacity()).isZero();
    assertThat(rule.getSpec().strategy()).isEqualTo(WorkloadDistributionRuleSpec.Strategy.CostOptimized);
    assertThat(rule.getSpec().isClusterLevel()).isTrue();

    // Terraform writes the selector in capitals; existing rules must keep applying.
    ObjectNode upper = sample(RULE, ns);
    set("/spec/selector", "\"ALL\"").apply(upper);
    assertThat(create(client, upper, WorkloadDistributionRule.class).getSpec().selectorValue())
        .isEqualTo(WorkloadDistributionRuleSpec.Selector.All);
  }

  @Test
  void orchestratorConfigIsAcceptedWithDefaults(KubernetesClient client) {
    ObjectNode doc = sampleAsIs(CONFIG);
    remove("/spec/consolidation/podEvictor/minimumCpu").apply(doc);
    ClusterOrchestratorConfig config = create(client, doc, ClusterOrchestratorConfig.class);
    try {
      assertThat(config.getSpec().consolidation().podEvictor().maxEvictions()).isEqualTo(20);
      assertThat(config.getSpec().consolidation().podEvictor().evictSingleReplicas()).isFalse();
      assertThat(config.getSpec().consolidation().podEvictor().minimumCpu()).isEqualTo(30);
      assertThat(config.getSpec().disabled()).isFalse();
      assertThat(config.getSpec().replacementWindow().windowDetails().timeZone()).isEqualTo("Europe/Berlin");
    } finally {
      client.resource(config).delete();
    }
  }

  /**
   * Inputs Karpenter v1.14's CRDs admit, so a migrating user's EC2NodeClass or NodePool applies here
   * as it is.
   */
  static Stream<Arguments> karpenterAcceptedObjects() {
    String efaLayout = "[{\"networkCardIndex\":0,\"deviceIndex\":0,\"interfaceType\":\"interface\"},"
        + "{\"networkCardIndex\":0,\"deviceIndex\":1,\"interfaceType\":\"efa-only\"},"
        + "{\"networkCardIndex\":1,\"deviceIndex\":0,\"interfaceType\":\"efa-only\"},"
        + "{\"networkCardIndex\":1,\"deviceIndex\":1,\"interfaceType\":\"interface\"}]";
    return Stream.of(
        // EC2NodeClass capacity reservations
        accept("reservations by tags", NODECLASS, set(RESERVATIONS, "[{\"tags\":{\"team\":\"ml\",\"tier\":\"*\"}}]")),
        accept("reservation by id", NODECLASS, set(RESERVATIONS, "[{\"id\":\"cr-0123456789abcdef0\"}]")),
        accept("reservations by owner and tags", NODECLASS, set(RESERVATIONS, "[{\"ownerID\":\"012345678901\",\"tags\":{\"team\":\"ml\"}}]")),
        accept("reservations by match criteria alone", NODECLASS, set(RESERVATIONS, "[{\"instanceMatchCriteria\":\"targeted\"}]")),
        accept("reservations by match criteria, owner and tags", NODECLASS,
            set(RESERVATIONS, "[{\"instanceMatchCriteria\":\"open\",\"ownerID\":\"012345678901\",\"tags\":{\"team\":\"ml\"}}]")),
        // Karpenter refuses an id with other fields only when every term is one.
        accept("id with tags beside a term without id", NODECLASS,
            set(RESERVATIONS, "[{\"id\":\"cr-0123456789abcdef0\",\"tags\":{\"team\":\"ml\"}},{\"tags\":{\"team\":\"ml\"}}]")),
        accept("30 reservation terms", NODECLASS, set(RESERVATIONS, jsonArray(30, i -> "{\"id\":\"cr-" + i + "\"}"))),
        // EC2NodeClass network interfaces
        accept("an EFA layout with one efa-only interface per card", NODECLASS, set(INTERFACES, efaLayout)),
        accept("no network interfaces", NODECLASS, set(INTERFACES, "[]")),
        // NodePool labels: Karpenter's own keys that users may set, and every kubernetes.io and k8s.io key
        // but the hostname (Karpenter restricts those domains no more since v1.9).
        accept("capacity type label", NODEPOOL, label("karpenter.sh/capacity-type", "spot")),
        accept("well-known AWS label", NODEPOOL, label("karpenter.k8s.aws/instance-family", "m5")),
        accept("capacity reservation id label", NODEPOOL, label("karpenter.k8s.aws/capacity-reservation-id", "cr-0123456789abcdef0")),
        accept("zone label", NODEPOOL, label("topology.kubernetes.io/zone", "us-east-1a")),
        accept("kubernetes.io label", NODEPOOL, label("kubernetes.io/team", "ml")),
        accept("node-restriction label", NODEPOOL, label("node-restriction.kubernetes.io/team", "ml")),
        accept("k8s.io label", NODEPOOL, label("k8s.io/team", "ml")),
        accept("kOps label", NODEPOOL, label("kops.k8s.io/instancegroup", "karpenter-nodes")),
        accept("empty label value", NODEPOOL, label("team", "")),
        accept("63-character label value", NODEPOOL, label("team", "v" + "-".repeat(61) + "v")),
        accept("longest label key", NODEPOOL, label("p".repeat(253) + "/" + "n".repeat(63), "x")),
        accept("100 labels", NODEPOOL, set("/spec/template/metadata/labels", jsonObject(100, i -> "\"team-" + i + "\":\"x\""))));
  }

  private static Arguments accept(String what, String sample, UnaryOperator<ObjectNode> edit) {
    return Arguments.of(what, sample, edit);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("karpenterAcceptedObjects")
  void objectKarpenterAcceptsIsAccepted(String what, String sample, UnaryOperator<ObjectNode> edit, KubernetesClient client,
      TestNamespace ns) {
    ObjectNode valid = edit.apply(sample(sample, ns));
    GenericKubernetesResource created = client.resource(generic(valid)).create();
    assertThat(created.getMetadata().getUid()).as(what).isNotBlank();
  }

  // ---------------------------------------------------------------- invalid objects

  static Stream<Arguments> invalidObjects() {
    return Stream.of(
        // NodePool requirements
        reject("In needs values", NODEPOOL, set("/spec/template/spec/requirements/0", "{\"key\":\"karpenter.sh/capacity-type\",\"operator\":\"In\"}"),
            "requirements with operator 'In' must have a value defined"),
        reject("Gt needs an integer", NODEPOOL, set("/spec/template/spec/requirements/3/values", "[\"four\"]"),
            "must have a single positive integer value"),
        reject("Gt needs exactly one value", NODEPOOL, set("/spec/template/spec/requirements/3/values", "[\"4\",\"5\"]"),
            "must have a single positive integer value"),
        reject("minValues above the number of values", NODEPOOL, set("/spec/template/spec/requirements/2/minValues", "4"),
            "must have at least that many values specified in the 'values' field"),
        reject("minValues above 50", NODEPOOL, set("/spec/template/spec/requirements/2/minValues", "51"),
            "should be less than or equal to 50"),
        reject("karpenter.sh/nodepool may not be required", NODEPOOL,
            set("/spec/template/spec/requirements/0/key", "\"karpenter.sh/nodepool\""), "label \"karpenter.sh/nodepool\" is restricted"),
        reject("hostname may not be required", NODEPOOL,
            set("/spec/template/spec/requirements/0/key", "\"kubernetes.io/hostname\""), "label \"kubernetes.io/hostname\" is restricted"),
        reject("karpenter.sh domain is reserved", NODEPOOL,
            set("/spec/template/spec/requirements/0/key", "\"karpenter.sh/team\""), "label domain \"karpenter.sh\" is restricted"),
        reject("karpenter.k8s.aws domain is reserved", NODEPOOL,
            set("/spec/template/spec/requirements/0/key", "\"karpenter.k8s.aws/team\""), "label domain \"karpenter.k8s.aws\" is restricted"),
        reject("unknown operator", NODEPOOL, set("/spec/template/spec/requirements/0/operator", "\"Equals\""),
            "Unsupported value: \"Equals\""),
        // NodePool labels, taints, durations, budgets, weight, nodeClassRef
        reject("hostname label is reserved", NODEPOOL, set("/spec/template/metadata/labels/kubernetes.io~1hostname", "\"a\""),
            "label \"kubernetes.io/hostname\" is restricted"),
        reject("label value too long", NODEPOOL, set("/spec/template/metadata/labels/team", "\"" + "x".repeat(64) + "\""),
            "Too long: may not be more than 63"),
        reject("label key not a qualified name", NODEPOOL, set("/spec/template/metadata/labels/bad key", "\"x\""),
            "label keys must be qualified names"),
        reject("taint effect", NODEPOOL, set("/spec/template/spec/taints", "[{\"key\":\"a\",\"effect\":\"Sometimes\"}]"),
            "Unsupported value: \"Sometimes\""),
        reject("consolidateAfter format", NODEPOOL, set("/spec/disruption/consolidateAfter", "\"10 minutes\""),
            "spec.disruption.consolidateAfter in body should match"),
        reject("expireAfter has no days", NODEPOOL, set("/spec/template/spec/expireAfter", "\"30d\""),
            "spec.template.spec.expireAfter in body should match"),
        reject("budget schedule without duration", NODEPOOL, remove("/spec/disruption/budgets/1/duration"),
            "'schedule' must be set with 'duration'"),
        reject("budget above 100%", NODEPOOL, set("/spec/disruption/budgets/0/nodes", "\"150%\""),
            "spec.disruption.budgets[0].nodes in body should match"),
        reject("budget reason", NODEPOOL, set("/spec/disruption/budgets/1/reasons", "[\"Expired\"]"), "Unsupported value: \"Expired\""),
        reject("budget duration in seconds", NODEPOOL, set("/spec/disruption/budgets/1/duration", "\"30s\""),
            "spec.disruption.budgets[1].duration in body should match"),
        reject("consolidation policy", NODEPOOL, set("/spec/disruption/consolidationPolicy", "\"Always\""), "Unsupported value: \"Always\""),
        reject("weight below 1", NODEPOOL, set("/spec/weight", "0"), "should be greater than or equal to 1"),
        reject("weight above 100", NODEPOOL, set("/spec/weight", "101"), "should be less than or equal to 100"),
        reject("nodeClassRef is required", NODEPOOL, remove("/spec/template/spec/nodeClassRef"), "spec.template.spec.nodeClassRef: Required value"),
        reject("nodeClassRef name may not be empty", NODEPOOL, set("/spec/template/spec/nodeClassRef/name", "\"\""), "name may not be empty"),
        reject("limits are quantities", NODEPOOL, set("/spec/limits/cpu", "\"lots\""), "spec.limits.cpu in body should match"),
        reject("static pools have no weight", NODEPOOL, set("/spec/replicas", "3"), "'weight' is not supported on static NodePools"),
        // NodeClaim
        reject("NodeClaim needs requirements", NODECLAIM, remove("/spec/requirements"), "spec.requirements: Required value"),
        // EC2NodeClass
        reject("role and instanceProfile together", NODECLASS, set("/spec/instanceProfile", "\"KarpenterNodeProfile\""),
            "must specify exactly one of ['role', 'instanceProfile']"),
        reject("alias with another AMI term", NODECLASS, set("/spec/amiSelectorTerms/1", "{\"id\":\"ami-0123456789\"}"),
            "'alias' is mutually exclusive, cannot be set with a combination of other amiSelectorTerms"),
        reject("unknown AMI family alias", NODECLASS, set("/spec/amiSelectorTerms/0/alias", "\"ubuntu@latest\""), "family is not supported"),
        reject("Windows alias pinned to a version", NODECLASS, set("/spec/amiSelectorTerms/0/alias", "\"windows2022@v20240101\""),
            "windows families may only specify version 'latest'"),
        reject("amiFamily needed without alias", NODECLASS, set("/spec/amiSelectorTerms/0", "{\"name\":\"my-ami-*\"}"),
            "must specify amiFamily if amiSelectorTerms does not contain an alias"),
        reject("cluster ownership tag reserved", NODECLASS, set("/spec/tags/kubernetes.io~1cluster~1demo", "\"owned\""),
            "tag contains a restricted tag matching kubernetes.io/cluster/"),
        reject("no subnets", NODECLASS, set("/spec/subnetSelectorTerms", "[]"), "subnetSelectorTerms cannot be empty"),
        reject("image GC thresholds inverted", NODECLASS,
            set("/spec/kubelet", "{\"imageGCHighThresholdPercent\":50,\"imageGCLowThresholdPercent\":80}"),
            "imageGCHighThresholdPercent must be greater than imageGCLowThresholdPercent"),
        reject("soft eviction without grace period", NODECLASS, set("/spec/kubelet", "{\"evictionSoft\":{\"memory.available\":\"5%\"}}"),
            "evictionSoft OwnerKey does not have a matching evictionSoftGracePeriod"),
        reject("IMDS hop limit", NODECLASS, set("/spec/metadataOptions", "{\"httpPutResponseHopLimit\":65}"), "should be less than or equal to 64"),
        reject("two root volumes", NODECLASS, set("/spec/blockDeviceMappings/1",
            "{\"deviceName\":\"/dev/xvdb\",\"rootVolume\":true,\"ebs\":{\"volumeSize\":\"20Gi\"}}"), "must have only one blockDeviceMappings with rootVolume"),
        // EC2NodeClass capacity reservations, as Karpenter v1.14 rejects them
        reject("reservation id with tags", NODECLASS, set(RESERVATIONS, "[{\"id\":\"cr-0123456789abcdef0\",\"tags\":{\"team\":\"ml\"}}]"),
            RESERVATION_ID_EXCLUSIVE),
        reject("reservation id with ownerID", NODECLASS, set(RESERVATIONS, "[{\"id\":\"cr-0123456789abcdef0\",\"ownerID\":\"012345678901\"}]"),
            RESERVATION_ID_EXCLUSIVE),
        reject("reservation id with match criteria", NODECLASS,
            set(RESERVATIONS, "[{\"id\":\"cr-0123456789abcdef0\",\"instanceMatchCriteria\":\"open\"}]"), RESERVATION_ID_EXCLUSIVE),
        reject("every reservation term an id with other fields", NODECLASS, set(RESERVATIONS,
            "[{\"id\":\"cr-0123456789abcdef0\",\"tags\":{\"a\":\"b\"}},{\"id\":\"cr-1\",\"ownerID\":\"012345678901\"}]"), RESERVATION_ID_EXCLUSIVE),
        reject("empty reservation list", NODECLASS, set(RESERVATIONS, "[]"), RESERVATION_ID_EXCLUSIVE),
        reject("empty reservation term", NODECLASS, set(RESERVATIONS, "[{}]"),
            "expected at least one, got none, ['tags', 'id', 'instanceMatchCriteria']"),
        reject("reservation ownerID alone", NODECLASS, set(RESERVATIONS, "[{\"ownerID\":\"012345678901\"}]"),
            "expected at least one, got none, ['tags', 'id', 'instanceMatchCriteria']"),
        reject("31 reservation terms", NODECLASS, set(RESERVATIONS, jsonArray(31, i -> "{\"id\":\"cr-" + i + "\"}")),
            "spec.capacityReservationSelectorTerms: Too many: 31: must have at most 30 items"),
        reject("reservation id pattern", NODECLASS, set(RESERVATIONS, "[{\"id\":\"r-12345749\"}]"),
            "spec.capacityReservationSelectorTerms[0].id in body should match '^cr-[0-9a-z]+$'"),
        reject("reservation ownerID of 11 digits", NODECLASS, set(RESERVATIONS, "[{\"ownerID\":\"01234567890\",\"tags\":{\"a\":\"b\"}}]"),
            "spec.capacityReservationSelectorTerms[0].ownerID in body should match '^[0-9]{12}$'"),
        reject("reservation match criteria", NODECLASS, set(RESERVATIONS, "[{\"instanceMatchCriteria\":\"invalid\"}]"),
            "Unsupported value: \"invalid\""),
        reject("reservation tag value empty", NODECLASS, set(RESERVATIONS, "[{\"tags\":{\"team\":\"\"}}]"),
            "empty tag keys or values aren't supported"),
        reject("21 reservation tags", NODECLASS, set(RESERVATIONS, "[{\"tags\":" + jsonObject(21, i -> "\"t" + i + "\":\"v\"") + "}]"),
            "spec.capacityReservationSelectorTerms[0].tags: Too many: 21: must have at most 20 items"),
        // EC2NodeClass network interfaces
        reject("two efa-only interfaces on one card", NODECLASS, set(INTERFACES, "[{\"networkCardIndex\":0,\"deviceIndex\":0,\"interfaceType\":\"interface\"},"
            + "{\"networkCardIndex\":1,\"deviceIndex\":0,\"interfaceType\":\"efa-only\"},{\"networkCardIndex\":1,\"deviceIndex\":1,\"interfaceType\":\"efa-only\"}]"),
            INTERFACES_UNIQUE),
        reject("card and device pair twice", NODECLASS, set(INTERFACES, "[{\"networkCardIndex\":0,\"deviceIndex\":0,\"interfaceType\":\"interface\"},"
            + "{\"networkCardIndex\":1,\"deviceIndex\":0,\"interfaceType\":\"interface\"},{\"networkCardIndex\":1,\"deviceIndex\":0,\"interfaceType\":\"efa-only\"}]"),
            INTERFACES_UNIQUE),
        reject("no primary interface", NODECLASS, set(INTERFACES, "[{\"networkCardIndex\":0,\"deviceIndex\":1,\"interfaceType\":\"interface\"}]"),
            INTERFACES_PRIMARY),
        reject("efa-only primary interface", NODECLASS, set(INTERFACES, "[{\"networkCardIndex\":0,\"deviceIndex\":0,\"interfaceType\":\"efa-only\"}]"),
            INTERFACES_PRIMARY),
        reject("interface type", NODECLASS, set(INTERFACES, "[{\"networkCardIndex\":0,\"deviceIndex\":0,\"interfaceType\":\"efa\"}]"),
            "Unsupported value: \"efa\""),
        reject("negative network card", NODECLASS, set(INTERFACES, "[{\"networkCardIndex\":0,\"deviceIndex\":0,\"interfaceType\":\"interface\"},"
            + "{\"networkCardIndex\":-1,\"deviceIndex\":0,\"interfaceType\":\"interface\"}]"),
            "spec.networkInterfaces[1].networkCardIndex: Invalid value: -1: spec.networkInterfaces[1].networkCardIndex in body should be greater than or equal to 0"),
        reject("interface without device index", NODECLASS, set(INTERFACES, "[{\"networkCardIndex\":0,\"interfaceType\":\"interface\"}]"),
            "spec.networkInterfaces[0].deviceIndex: Required value"),
        reject("151 network interfaces", NODECLASS,
            set(INTERFACES, jsonArray(151, i -> "{\"networkCardIndex\":" + i + ",\"deviceIndex\":0,\"interfaceType\":\"interface\"}")),
            "spec.networkInterfaces: Too many: 151: must have at most 150 items"),
        // NodePool labels, as Karpenter v1.14 restricts them
        reject("nodepool label", NODEPOOL, label("karpenter.sh/nodepool", "general"), "label \"karpenter.sh/nodepool\" is restricted"),
        reject("karpenter.sh label", NODEPOOL, label("karpenter.sh/team", "ml"), "label domain \"karpenter.sh\" is restricted"),
        reject("karpenter.sh subdomain label", NODEPOOL, label("team.karpenter.sh/name", "ml"), "label domain \"karpenter.sh\" is restricted"),
        reject("karpenter.k8s.aws label", NODEPOOL, label("karpenter.k8s.aws/team", "ml"), "label domain \"karpenter.k8s.aws\" is restricted"),
        reject("AWS label Karpenter v1.14 does not let users set", NODEPOOL, label("karpenter.k8s.aws/nitro-sandbox", "true"),
            "label domain \"karpenter.k8s.aws\" is restricted"),
        reject("label value with a slash", NODEPOOL, label("team", "a/b"),
            "spec.template.metadata.labels.team in body should match '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$'"),
        reject("label value starting with a dash", NODEPOOL, label("team", "-ml"), "spec.template.metadata.labels.team in body should match"),
        reject("label key name of 64 characters", NODEPOOL, label("example.com/" + "n".repeat(64), "x"), LABEL_KEY_LENGTH),
        reject("label key prefix of 254 characters", NODEPOOL, label("p".repeat(254) + "/team", "x"), LABEL_KEY_LENGTH),
        reject("label key with an empty prefix", NODEPOOL, label("/team", "x"), "label keys must be qualified names"),
        reject("101 labels", NODEPOOL, set("/spec/template/metadata/labels", jsonObject(101, i -> "\"team-" + i + "\":\"x\"")),
            "spec.template.metadata.labels: Too many: 101: must have at most 100 items"),
        // WorkloadDistributionRule
        reject("split must add up to 100", RULE, set("/spec/distribution/ondemand", "60"),
            "distribution.spot and distribution.ondemand must add up to 100"),
        reject("percentages are at most 100", RULE, set("/spec/distribution", "{\"spot\":120,\"ondemand\":-20}"), "should be less than or equal to 100"),
        reject("selector is SpotReady or All", RULE, set("/spec/selector", "\"Some\""), "selector must be SpotReady or All"),
        reject("strategy enum", RULE, set("/spec/strategy", "\"Cheapest\""), "Unsupported value: \"Cheapest\""),
        reject("negative base on-demand capacity", RULE, set("/spec/baseOnDemandCapacity", "-1"), "should be greater than or equal to 0"),
        reject("distribution is required", RULE, remove("/spec/distribution"), "spec.distribution: Required value"),
        reject("namespace must be a namespace name", RULE, set("/spec/namespace", "\"Payments_Team\""), "spec.namespace in body should match"),
        // ClusterOrchestratorConfig
        reject("config is a singleton", CONFIG, set("/metadata/name", "\"other\""), "its name must be 'default'"),
        reject("reverse fallback needs an interval", CONFIG, remove("/spec/reverseFallback/retryInterval"),
            "reverseFallback.retryInterval is required when reverseFallback is enabled"),
        reject("custom window needs details", CONFIG, remove("/spec/replacementWindow/windowDetails"),
            "windowDetails is required when replacementWindowType is Custom"),
        reject("days are 0-6 or names", CONFIG, set("/spec/replacementWindow/windowDetails/days", "[7]"), "days must be 0 (Sunday) to 6"),
        reject("window needs times unless all day", CONFIG, set("/spec/replacementWindow/windowDetails/allDay", "false"),
            "windowDetails needs startTime and endTime unless allDay is true"),
        reject("deletion criteria", CONFIG, set("/spec/consolidation/policy", "\"Sometimes\""), "policy must be WhenEmpty"),
        reject("commitments need an account", CONFIG, set("/spec/commitmentIntegration", "{\"enabled\":true}"),
            "commitmentIntegration.cloudAccountId is required"));
  }

  private static Arguments reject(String what, String sample, UnaryOperator<ObjectNode> edit, String message) {
    return Arguments.of(what, sample, edit, message);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidObjects")
  void invalidObjectIsRejectedWithAReadableMessage(String what, String sample, UnaryOperator<ObjectNode> edit, String message,
      KubernetesClient client, TestNamespace ns) {
    ObjectNode doc = sample.equals(NODECLAIM) ? nodeClaim(ns) : sample.equals(CONFIG) ? sampleAsIs(CONFIG) : sample(sample, ns);
    ObjectNode invalid = edit.apply(doc);
    assertThatThrownBy(() -> client.resource(generic(invalid)).create())
        .as(what)
        .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(422))
        .hasMessageContaining(message);
  }

  @Test
  void unknownFieldsAreRejectedByKubectl(ControlPlane cp, TestNamespace ns) throws IOException {
    ObjectNode doc = sample(RULE, ns);
    set("/spec/spotPercentage", "80").apply(doc);
    Path file = Files.createTempFile("rule", ".yaml");
    Files.writeString(file, YAML.writeValueAsString(doc));
    ProcessResult result = cp.kubectl("apply", "-f", file.toString());
    assertThat(result.exitCode()).isNotZero();
    assertThat(result.stderr()).contains("unknown field \"spec.spotPercentage\"");
  }

  // ---------------------------------------------------------------- kubectl

  @Test
  void kubectlPrintsKarpenterNodePoolColumns(ControlPlane cp, KubernetesClient client, TestNamespace ns) {
    NodePool pool = create(client, sample(NODEPOOL, ns), NodePool.class);
    String name = pool.getMetadata().getName();
    client.resource(generic(toNode(pool))).subresource("status").patch(PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"nodes\":3,\"resources\":{\"cpu\":\"12\",\"memory\":\"48Gi\"},"
        + "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"Ready\",\"message\":\"\",\"lastTransitionTime\":\"2026-11-23T10:00:00Z\"}]}}");

    Map<String, String> wide = row(cp.kubectl("get", "nodepools", name, "-o", "wide").orThrow("kubectl get nodepools"));
    // Karpenter's columns, then Dovetail's: the limits in force.
    assertThat(wide.keySet()).containsExactly("NAME", "NODECLASS", "NODES", "READY", "AGE", "WEIGHT", "CPU", "MEMORY", "CPU-LIMIT", "MEMORY-LIMIT");
    assertThat(wide).containsEntry("NAME", name).containsEntry("NODECLASS", "default").containsEntry("NODES", "3")
        .containsEntry("READY", "True").containsEntry("WEIGHT", "50").containsEntry("CPU", "12").containsEntry("MEMORY", "48Gi")
        .containsEntry("CPU-LIMIT", "1000").containsEntry("MEMORY-LIMIT", "4000Gi");

    Map<String, String> narrow = row(cp.kubectl("get", "nodepools", name).orThrow("kubectl get nodepools"));
    assertThat(narrow.keySet()).containsExactly("NAME", "NODECLASS", "NODES", "READY", "AGE");
  }

  @Test
  void kubectlPrintsKarpenterNodeClaimColumns(ControlPlane cp, KubernetesClient client, TestNamespace ns) {
    ObjectNode doc = nodeClaim(ns);
    set("/metadata/labels", "{\"node.kubernetes.io/instance-type\":\"m5.large\",\"karpenter.sh/capacity-type\":\"spot\","
        + "\"topology.kubernetes.io/zone\":\"us-east-1a\",\"karpenter.sh/nodepool\":\"general\"}").apply(doc);
    NodeClaim claim = create(client, doc, NodeClaim.class);
    Map<String, String> row = row(cp.kubectl("get", "nodeclaims", claim.getMetadata().getName()).orThrow("kubectl get nodeclaims"));
    assertThat(row.keySet()).containsExactly("NAME", "TYPE", "CAPACITY", "ZONE", "NODE", "READY", "AGE");
    assertThat(row).containsEntry("TYPE", "m5.large").containsEntry("CAPACITY", "spot").containsEntry("ZONE", "us-east-1a");
    Map<String, String> wide = row(cp.kubectl("get", "nodeclaims", claim.getMetadata().getName(), "-o", "wide").orThrow("kubectl"));
    assertThat(wide).containsEntry("NODEPOOL", "general").containsEntry("NODECLASS", "default");
  }

  @Test
  void kubectlPrintsDistributionRuleColumnsAndFindsKarpenterCategory(ControlPlane cp, KubernetesClient client, TestNamespace ns) {
    WorkloadDistributionRule rule = create(client, sample(RULE, ns), WorkloadDistributionRule.class);
    Map<String, String> row = row(cp.kubectl("get", "workloaddistributionrules", rule.getMetadata().getName()).orThrow("kubectl"));
    assertThat(row.keySet()).containsExactly("NAME", "NAMESPACE", "SPOT", "ON-DEMAND", "SELECTOR", "STRATEGY", "READY", "AGE");
    assertThat(row).containsEntry("NAMESPACE", "payments").containsEntry("SPOT", "50").containsEntry("ON-DEMAND", "50")
        .containsEntry("SELECTOR", "All").containsEntry("STRATEGY", "LeastInterrupted");

    create(client, sample(NODEPOOL, ns), NodePool.class);
    ProcessResult all = cp.kubectl("get", "karpenter").orThrow("kubectl get karpenter");
    assertThat(all.stdout()).contains("nodepool.karpenter.sh/" + ns.unique("general"));
  }

  @Test
  void kubectlExplainDescribesFields(ControlPlane cp) {
    ProcessResult explain = cp.kubectl("explain", "nodepools.spec.disruption.budgets.nodes").orThrow("kubectl explain");
    assertThat(explain.stdout()).contains("Nodes that may be disrupting at once");
    ProcessResult rule = cp.kubectl("explain", "workloaddistributionrules.spec.selector").orThrow("kubectl explain");
    assertThat(rule.stdout()).contains("SpotReady");
  }

  // ---------------------------------------------------------------- helpers

  /** A sample manifest with its (cluster-scoped) name made unique to the test. */
  private static ObjectNode sample(String file, TestNamespace ns) {
    ObjectNode doc = sampleAsIs(file);
    ObjectNode metadata = (ObjectNode) doc.get("metadata");
    metadata.put("name", ns.unique(metadata.get("name").asText()));
    return doc;
  }

  private static ObjectNode sampleAsIs(String file) {
    try {
      return (ObjectNode) YAML.readTree(Files.readString(RepoPaths.manifests().resolve("samples").resolve(file)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static ObjectNode nodeClaim(TestNamespace ns) {
    try {
      return (ObjectNode) YAML.readTree("""
          apiVersion: karpenter.sh/v1
          kind: NodeClaim
          metadata:
            name: %s
          spec:
            nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
            requirements:
              - {key: node.kubernetes.io/instance-type, operator: In, values: [m5.large, m5.xlarge]}
              - {key: karpenter.sh/capacity-type, operator: In, values: [spot]}
              - {key: karpenter.sh/nodepool, operator: In, values: [general]}
            resources:
              requests: {cpu: 1500m, memory: 3Gi}
          """.formatted(ns.unique("general")));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Sets one label of the NodePool template (the key escaped for the JSON pointer). */
  private static UnaryOperator<ObjectNode> label(String key, String value) {
    return set("/spec/template/metadata/labels/" + key.replace("~", "~0").replace("/", "~1"), Serialization.asJson(value));
  }

  private static String jsonArray(int size, IntFunction<String> item) {
    return IntStream.range(0, size).mapToObj(item).collect(Collectors.joining(",", "[", "]"));
  }

  private static String jsonObject(int size, IntFunction<String> member) {
    return IntStream.range(0, size).mapToObj(member).collect(Collectors.joining(",", "{", "}"));
  }

  private static GenericKubernetesResource generic(ObjectNode doc) {
    return Serialization.unmarshal(doc.toString(), GenericKubernetesResource.class);
  }

  private static ObjectNode toNode(HasMetadata resource) {
    ObjectNode node = Serialization.jsonMapper().valueToTree(resource);
    node.remove("status");
    return node;
  }

  private static <T extends HasMetadata> T create(KubernetesClient client, ObjectNode doc, Class<T> type) {
    GenericKubernetesResource created = client.resource(generic(doc)).create();
    return Serialization.unmarshal(Serialization.asJson(created), type);
  }

  /** kubectl's table output (one object) as column name to value. */
  private static Map<String, String> row(ProcessResult result) {
    List<String> lines = result.stdout().lines().toList();
    assertThat(lines).as(result.stdout()).hasSize(2);
    String header = lines.get(0);
    String values = lines.get(1);
    List<String> names = Arrays.stream(header.trim().split("\\s+")).toList();
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i < names.size(); i++) {
      int start = header.indexOf(names.get(i), i == 0 ? 0 : header.indexOf(names.get(i - 1)) + names.get(i - 1).length());
      int end = i + 1 < names.size() ? header.indexOf(names.get(i + 1), start + names.get(i).length()) : Integer.MAX_VALUE;
      String cell = values.substring(Math.min(start, values.length()), Math.min(end, values.length())).trim();
      out.put(names.get(i), cell);
    }
    return out;
  }
}
