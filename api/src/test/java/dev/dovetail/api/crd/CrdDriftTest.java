package dev.dovetail.api.crd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.testkit.RepoPaths;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The committed CRDs are exactly what the Java model generates: the model is the single source. */
class CrdDriftTest {
  private static final String HOW_TO_FIX = "manifests/crds is out of date with the Java model; run scripts/generate-crds and commit the result";

  @Test
  void committedCrdsMatchTheModel() throws IOException {
    Map<String, String> generated = CrdGenerator.generate();
    Path dir = RepoPaths.root().resolve("manifests/crds");
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml")).sorted())
          .as(HOW_TO_FIX).containsExactlyElementsOf(generated.keySet());
    }
    for (Map.Entry<String, String> e : generated.entrySet()) {
      assertThat(Files.readString(dir.resolve(e.getKey()), StandardCharsets.UTF_8)).as(HOW_TO_FIX + " (" + e.getKey() + ")")
          .isEqualTo(e.getValue());
    }
  }

  @Test
  void kustomizationInstallsEveryCrd() throws IOException {
    String kustomization = Files.readString(RepoPaths.manifests().resolve("kustomization.yaml"));
    assertThat(CrdGenerator.generate().keySet()).allSatisfy(file -> assertThat(kustomization).contains("crds/" + file));
  }

  @Test
  void everyKindHasTheKarpenterCompatibleNames() {
    Map<String, String> generated = CrdGenerator.generate();
    assertThat(generated).containsOnlyKeys(
        "karpenter.sh_nodepools.yaml",
        "karpenter.sh_nodeclaims.yaml",
        "karpenter.k8s.aws_ec2nodeclasses.yaml",
        "ccm.harness.io_workloaddistributionrules.yaml",
        "dovetail.dev_clusterorchestratorconfigs.yaml");
    assertThat(generated.get("karpenter.k8s.aws_ec2nodeclasses.yaml")).contains("shortNames:\n    - ec2nc\n    - ec2ncs");
    // YAML 1.1 readers (kubectl) would turn unquoted True/False into booleans.
    assertThat(generated.values()).allSatisfy(yaml -> assertThat(yaml).contains("- \"True\"").doesNotContain("- True\n"));
  }
}
