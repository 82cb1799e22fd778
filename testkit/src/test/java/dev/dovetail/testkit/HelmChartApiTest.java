package dev.dovetail.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionBuilder;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * charts/dovetail: helm lints it, the kustomize base is it rendered with its defaults, and what it renders (defaults,
 * and the values an EKS user sets) is accepted by a real API server in a server-side dry run.
 */
@WithApiServer
class HelmChartApiTest {
  private static final String CHART = RepoPaths.root().resolve("charts/dovetail").toString();

  @Test
  void helmLintsTheChartStrictly() {
    ProcessResult lint = Helm.run("lint", "--strict", CHART);
    assertThat(lint.exitCode()).as(lint.stdout() + lint.stderr()).isZero();
  }

  @Test
  void theKustomizeBaseIsTheChartRenderedWithItsDefaults() {
    ProcessResult check = Processes.run(List.of(RepoPaths.root().resolve("scripts/generate-manifests").toString(), "--check"), Map.of(),
        Duration.ofMinutes(2));
    assertThat(check.exitCode()).as(check.stdout() + check.stderr()).isZero();
  }

  @Test
  void theDefaultsAreAcceptedByTheApiServer(ControlPlane cp, KubernetesClient client) throws Exception {
    List<HasMetadata> objects = render(cp, client, "--include-crds");
    assertThat(objects).extracting(o -> o.getKind() + "/" + o.getMetadata().getName()).contains("Deployment/dovetail-provisioner",
        "Deployment/dovetail-scheduler", "DaemonSet/dovetail-interrupt-listener", "ConfigMap/dovetail-scheduler-config",
        "CustomResourceDefinition/nodepools.karpenter.sh").doesNotContain("ServiceMonitor/dovetail", "ConfigMap/dovetail-grafana-dashboard");
    Deployment provisioner = find(objects, Deployment.class, "dovetail-provisioner");
    assertThat(provisioner.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
        .isEqualTo("ghcr.io/dovetail-dev/dovetail-provisioner:" + appVersion());
  }

  /** The values a Karpenter user on EKS sets, in another namespace: each reaches the object it is for. */
  @Test
  void anEksInstallRendersWhatItsValuesSay(ControlPlane cp, KubernetesClient client, TestNamespace ns) throws Exception {
    monitoringCrds(client);
    List<HasMetadata> objects = render(cp, client, "--namespace", ns.name(), "--set", "settings.cloudProvider=aws", "--set", "settings.clusterName=prod",
        "--set", "settings.clusterEndpoint=https://ABC.gr7.us-east-1.eks.amazonaws.com", "--set", "settings.awsRegion=us-east-1",
        "--set", "settings.interruptionQueue=prod-karpenter", "--set", "logLevel=DEBUG", "--set", "provisioner.replicas=3",
        "--set", "provisioner.image.tag=0.2.0", "--set-string",
        "provisioner.serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:aws:iam::111122223333:role/dovetail",
        "--set", "interruptListener.enabled=false", "--set", "serviceMonitor.enabled=true", "--set", "dashboard.enabled=true");

    Deployment provisioner = find(objects, Deployment.class, "dovetail-provisioner");
    assertThat(provisioner.getMetadata().getNamespace()).isEqualTo(ns.name());
    assertThat(provisioner.getSpec().getReplicas()).isEqualTo(3);
    var container = provisioner.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(container.getImage()).isEqualTo("ghcr.io/dovetail-dev/dovetail-provisioner:0.2.0");
    assertThat(container.getArgs()).contains("--cloud-provider=aws");
    assertThat(container.getEnv().stream().filter(e -> e.getValue() != null).collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue)))
        .containsEntry("CLUSTER_NAME", "prod").containsEntry("CLUSTER_ENDPOINT", "https://ABC.gr7.us-east-1.eks.amazonaws.com")
        .containsEntry("AWS_REGION", "us-east-1").containsEntry("INTERRUPTION_QUEUE", "prod-karpenter").containsEntry("DOVETAIL_LOG_LEVEL", "DEBUG");
    assertThat(find(objects, ServiceAccount.class, "dovetail-provisioner").getMetadata().getAnnotations())
        .containsEntry("eks.amazonaws.com/role-arn", "arn:aws:iam::111122223333:role/dovetail");
    assertThat(objects).noneMatch(o -> o instanceof DaemonSet);
    assertThat(find(objects, ConfigMap.class, "dovetail-scheduler-config").getData().get("dovetail-scheduler-config.yaml"))
        .contains("resourceNamespace: " + ns.name()).doesNotContain("kube-system");
    assertThat(find(objects, ConfigMap.class, "dovetail-grafana-dashboard").getData().get("dovetail-dashboard.json"))
        .isEqualTo(Files.readString(RepoPaths.manifests().resolve("monitoring/dovetail-dashboard.json")));
    assertThat(objects).extracting(o -> o.getKind() + "/" + o.getMetadata().getName()).contains("ServiceMonitor/dovetail",
        "PodMonitor/dovetail-interrupt-listener");
  }

  /** {@code helm template} with these arguments, applied with a server-side dry run (which must succeed); the rendered objects. */
  private static List<HasMetadata> render(ControlPlane cp, KubernetesClient client, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("template", "dovetail", CHART));
    command.addAll(List.of(args));
    ProcessResult rendered = Helm.run(command.toArray(String[]::new)).orThrow("helm template");
    Path file = Files.createTempFile("dovetail-chart-", ".yaml");
    Files.writeString(file, rendered.stdout());
    ProcessResult dryRun = cp.kubectl("apply", "--dry-run=server", "-f", file.toString());
    assertThat(dryRun.exitCode()).as(dryRun.stderr()).isZero();
    Files.delete(file);
    return client.load(new ByteArrayInputStream(rendered.stdout().getBytes(StandardCharsets.UTF_8))).items();
  }

  private static <T extends HasMetadata> T find(List<HasMetadata> objects, Class<T> type, String name) {
    return objects.stream().filter(type::isInstance).map(type::cast).filter(o -> o.getMetadata().getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " " + name));
  }

  private static String appVersion() throws Exception {
    return Files.readAllLines(RepoPaths.root().resolve("charts/dovetail/Chart.yaml")).stream().filter(l -> l.startsWith("appVersion:"))
        .map(l -> l.substring("appVersion:".length()).strip().replace("\"", "")).findFirst().orElseThrow();
  }

  /** The Prometheus Operator's two kinds, schemaless: enough for the API server to accept the chart's monitors. */
  private static void monitoringCrds(KubernetesClient client) {
    for (String kind : List.of("ServiceMonitor", "PodMonitor")) {
      String plural = kind.toLowerCase(Locale.ROOT) + "s";
      CustomResourceDefinition crd = new CustomResourceDefinitionBuilder().withNewMetadata().withName(plural + ".monitoring.coreos.com").endMetadata()
          .withNewSpec().withGroup("monitoring.coreos.com").withScope("Namespaced")
          .withNewNames().withKind(kind).withPlural(plural).withSingular(kind.toLowerCase(Locale.ROOT)).endNames()
          .addNewVersion().withName("v1").withServed(true).withStorage(true).withNewSchema().withNewOpenAPIV3Schema().withType("object")
          .withXKubernetesPreserveUnknownFields(true).endOpenAPIV3Schema().endSchema().endVersion().endSpec().build();
      client.apiextensions().v1().customResourceDefinitions().resource(crd).serverSideApply();
      client.apiextensions().v1().customResourceDefinitions().withName(crd.getMetadata().getName())
          .waitUntilCondition(c -> c.getStatus() != null && c.getStatus().getConditions() != null && c.getStatus().getConditions().stream()
              .anyMatch(k -> "Established".equals(k.getType()) && "True".equals(k.getStatus())), 30, TimeUnit.SECONDS);
    }
  }
}
