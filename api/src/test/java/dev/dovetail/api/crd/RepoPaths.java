package dev.dovetail.api.crd;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the repository root from a module's working directory. */
final class RepoPaths {
  private RepoPaths() {
  }

  static Path root() {
    String env = System.getenv("DOVETAIL_REPO");
    if (env != null && Files.isDirectory(Path.of(env, "manifests"))) {
      return Path.of(env);
    }
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("mvnw")) && Files.isDirectory(p.resolve("api"))) {
        return p;
      }
    }
    throw new IllegalStateException("cannot find the repository root above " + Path.of("").toAbsolutePath());
  }
}
