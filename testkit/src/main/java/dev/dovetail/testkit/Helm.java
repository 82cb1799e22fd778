package dev.dovetail.testkit;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * helm, built by scripts/build-control-plane from the Go module proxy into a version-keyed cache. Without it tests
 * skip with the reason, unless {@code DOVETAIL_REQUIRE_CLUSTER} forbids skipping.
 */
public final class Helm {
  private Helm() {
  }

  public static String version() {
    return K8sBinaries.scriptSetting("DOVETAIL_HELM_VERSION");
  }

  /** Where scripts/build-control-plane puts it. */
  public static Path binary() {
    return K8sBinaries.cacheRoot().resolve("tools").resolve("helm-" + version() + "-" + K8sBinaries.os() + "-" + K8sBinaries.arch())
        .resolve("helm");
  }

  public static Optional<Path> require() {
    return LocalServer.require(binary(), "helm", "build it with scripts/build-control-plane; needs Go");
  }

  /** Runs helm in the repository's root with these arguments, for at most two minutes. */
  public static ProcessResult run(String... args) {
    List<String> command = new ArrayList<>();
    command.add(require().orElseThrow().toString());
    command.addAll(List.of(args));
    return Processes.run(command, Map.of(), Duration.ofMinutes(2));
  }
}
