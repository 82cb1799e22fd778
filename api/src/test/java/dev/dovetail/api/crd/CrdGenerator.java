package dev.dovetail.api.crd;

import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.dovetail.api.CustomResources;
import dev.dovetail.testkit.RepoPaths;
import io.fabric8.crdv2.generator.CRDGenerator;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Generates {@code manifests/crds} from the Java model: fabric8's CRD generator plus {@link SchemaExtras}.
 * Run it through {@code scripts/generate-crds}; {@code CrdDriftTest} fails when the committed YAML
 * differs from what this produces.
 */
public final class CrdGenerator {
  static final String HEADER = """
      # Generated from the Java model in api/src/main/java/dev/dovetail/api by scripts/generate-crds.
      # Do not edit: change the model and regenerate; CrdDriftTest fails when this file and the model differ.
      """;

  /**
   * Plain YAML with quotes only where a YAML 1.1 reader (kubectl's) would otherwise see a boolean,
   * number or null: condition statuses "True"/"False" must stay strings.
   */
  private static final YAMLMapper YAML = YAMLMapper.builder()
      .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
      .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
      .enable(YAMLGenerator.Feature.LITERAL_BLOCK_STYLE)
      .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
      .build();

  private CrdGenerator() {
  }

  public static void main(String[] args) throws IOException {
    Path out = args.length > 0 ? Path.of(args[0]) : RepoPaths.root().resolve("manifests/crds");
    Files.createDirectories(out);
    for (Map.Entry<String, String> e : generate().entrySet()) {
      Files.writeString(out.resolve(e.getKey()), e.getValue(), StandardCharsets.UTF_8);
      System.out.println("wrote " + out.resolve(e.getKey()));
    }
  }

  /** File name ({@code <group>_<plural>.yaml}, Karpenter's naming) to YAML. */
  static Map<String, String> generate() {
    Path tmp;
    try {
      tmp = Files.createTempDirectory("dovetail-crds");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    SchemaExtras extras = new SchemaExtras(CustomResources.ALL);
    new CRDGenerator()
        .inOutputDir(tmp.toFile())
        .forCRDVersions("v1")
        .withPostProcessor(extras)
        .customResourceClasses(CustomResources.ALL.stream().<Class<? extends HasMetadata>>map(c -> c).toList())
        .generate();
    if (!extras.problems().isEmpty()) {
      throw new IllegalStateException("the model does not describe a complete CRD:\n  " + String.join("\n  ", extras.problems()));
    }
    Map<String, String> files = new TreeMap<>();
    try (Stream<Path> generated = Files.list(tmp)) {
      for (Path p : generated.toList()) {
        CustomResourceDefinition crd = Serialization.unmarshal(Files.readString(p, StandardCharsets.UTF_8), CustomResourceDefinition.class);
        files.put(crd.getSpec().getGroup() + "_" + crd.getSpec().getNames().getPlural() + ".yaml",
            HEADER + "---\n" + YAML.writeValueAsString(crd));
        Files.delete(p);
      }
      Files.delete(tmp);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return files;
  }
}
