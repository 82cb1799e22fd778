package dev.dovetail.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfig;
import dev.dovetail.api.harness.v1.WorkloadDistributionRule;
import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec;
import dev.dovetail.api.karpenter.v1.Disruption;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues.Operator;
import dev.dovetail.testkit.RepoPaths;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every sample manifest reads into the model and writes back unchanged (the model loses nothing). */
class SampleManifestsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  static Stream<Path> samples() throws IOException {
    try (Stream<Path> files = Files.list(RepoPaths.root().resolve("manifests/samples"))) {
      return files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList().stream();
    }
  }

  @ParameterizedTest
  @MethodSource("samples")
  void roundTripsThroughTheModel(Path sample) throws IOException {
    String yaml = Files.readString(sample);
    HasMetadata typed = Serialization.unmarshal(yaml);
    assertThat(typed.getClass().getPackageName()).as("sample %s maps to a Dovetail model class", sample.getFileName())
        .startsWith("dev.dovetail.api");
    JsonNode original = new YAMLMapper().readTree(yaml);
    JsonNode written = JSON.readTree(Serialization.asJson(typed));
    assertThat(written).isEqualTo(original);
  }

  @Test
  void samplesMeanWhatTheySay() throws IOException {
    Path dir = RepoPaths.root().resolve("manifests/samples");
    NodePool general = Serialization.unmarshal(Files.readString(dir.resolve("nodepool-general.yaml")), NodePool.class);
    assertThat(general.getSpec().weight()).isEqualTo(50);
    assertThat(general.getSpec().disruption().consolidationPolicy()).isEqualTo(Disruption.ConsolidationPolicy.WhenEmptyOrUnderutilized);
    assertThat(general.getSpec().template().spec().requirements()).anySatisfy(r -> {
      assertThat(r.key()).isEqualTo("karpenter.k8s.aws/instance-generation");
      assertThat(r.operator()).isEqualTo(Operator.Gt);
      assertThat(r.values()).isEqualTo(List.of("4"));
    });

    WorkloadDistributionRule payments = Serialization.unmarshal(
        Files.readString(dir.resolve("workloaddistributionrule-payments.yaml")), WorkloadDistributionRule.class);
    assertThat(payments.getSpec().selectorValue()).isEqualTo(WorkloadDistributionRuleSpec.Selector.All);
    assertThat(payments.getSpec().isClusterLevel()).isFalse();
    assertThat(payments.getSpec().strategy()).isEqualTo(WorkloadDistributionRuleSpec.Strategy.LeastInterrupted);

    ClusterOrchestratorConfig config = Serialization.unmarshal(
        Files.readString(dir.resolve("clusterorchestratorconfig.yaml")), ClusterOrchestratorConfig.class);
    assertThat(config.getSpec().consolidation().consolidationPolicy()).isEqualTo(Disruption.ConsolidationPolicy.WhenEmptyOrUnderutilized);
    assertThat(config.getSpec().replacementWindow().windowDetails().days()).hasSize(2);
  }

  @Test
  void selectorsAndPoliciesReadCaseInsensitively() {
    WorkloadDistributionRuleSpec upper = new WorkloadDistributionRuleSpec(null, null, "ALL", null, null);
    assertThat(upper.selectorValue()).isEqualTo(WorkloadDistributionRuleSpec.Selector.All);
    assertThat(upper.isClusterLevel()).isTrue();
    assertThat(new WorkloadDistributionRuleSpec(null, null, null, null, null).selectorValue())
        .isEqualTo(WorkloadDistributionRuleSpec.Selector.SpotReady);
  }
}
