package dev.dovetail.extender;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.dovetail.testkit.RepoPaths;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The shipped kube-scheduler configurations call the extender the way it serves, and the Deployment agrees. */
class SchedulerConfigTest {
  private static final YAMLMapper YAML = new YAMLMapper();

  private static JsonNode read(String path) throws IOException {
    return YAML.readTree(Files.readString(RepoPaths.manifests().resolve(path)));
  }

  @ParameterizedTest
  @ValueSource(strings = {"scheduler/dovetail-scheduler-config.yaml", "scheduler/local-extender.yaml"})
  void extenderEntryMatchesWhatTheExtenderServes(String path) throws IOException {
    JsonNode config = read(path);
    assertThat(config.get("apiVersion").asText()).isEqualTo("kubescheduler.config.k8s.io/v1");
    assertThat(config.get("kind").asText()).isEqualTo("KubeSchedulerConfiguration");
    JsonNode extender = config.get("extenders").get(0);
    URI url = URI.create(extender.get("urlPrefix").asText());
    assertThat(url.getHost()).isEqualTo("127.0.0.1");
    assertThat(url.getPath()).isEqualTo(ExtenderServer.PREFIX);
    assertThat(extender.get("filterVerb").asText()).isEqualTo("filter");
    assertThat(extender.get("prioritizeVerb").asText()).isEqualTo("prioritize");
    assertThat(extender.get("nodeCacheCapable").asBoolean()).isTrue();
    assertThat(extender.get("weight").asInt()).as("a full score must outweigh the in-tree plugins").isGreaterThanOrEqualTo(12);
    assertThat(Duration.parse("PT" + extender.get("httpTimeout").asText().toUpperCase(Locale.ROOT)))
        .isLessThanOrEqualTo(Duration.ofSeconds(1));
    assertThat(extender.has("ignorable")).as("ignorable is chosen explicitly").isTrue();
    assertThat(extender.has("bindVerb")).isFalse();
    assertThat(config.get("profiles").get(0).get("percentageOfNodesToScore").asInt()).isEqualTo(100);
    JsonNode fit = config.at("/profiles/0/pluginConfig/0");
    assertThat(fit.get("name").asText()).isEqualTo("NodeResourcesFit");
    assertThat(fit.at("/args/scoringStrategy/type").asText()).as("pods are packed, as the provisioner plans them").isEqualTo("MostAllocated");
  }

  @Test
  void theDeploymentRunsTheExtenderWhereTheSchedulerLooksAndMountsItsConfig() throws IOException {
    JsonNode config = read("scheduler/dovetail-scheduler-config.yaml");
    assertThat(config.at("/profiles/0/schedulerName").asText()).isEqualTo("dovetail-scheduler");
    assertThat(config.at("/leaderElection/resourceName").asText()).isEqualTo("dovetail-scheduler");
    int port = URI.create(config.at("/extenders/0/urlPrefix").asText()).getPort();

    JsonNode deployment = YAML.readValues(YAML.createParser(Files.readString(RepoPaths.manifests().resolve("extender/deployment.yaml"))),
        JsonNode.class).readAll().stream().filter(d -> d.get("kind").asText().equals("Deployment")).findFirst().orElseThrow();
    JsonNode containers = deployment.at("/spec/template/spec/containers");
    JsonNode scheduler = containers.get(0);
    JsonNode extender = containers.get(1);
    assertThat(scheduler.get("command").toString()).contains("--config=/etc/dovetail/scheduler/dovetail-scheduler-config.yaml");
    assertThat(scheduler.at("/volumeMounts/0/mountPath").asText()).isEqualTo("/etc/dovetail/scheduler");
    assertThat(extender.get("args").toString()).contains("--port=" + port);
    assertThat(deployment.at("/spec/template/spec/schedulerName").isMissingNode())
        .as("the scheduler's own pods are placed by default-scheduler").isTrue();
    assertThat(List.of(extender.at("/readinessProbe/httpGet/path").asText())).containsExactly("/readyz");
  }
}
