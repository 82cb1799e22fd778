package dev.dovetail.testkit;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the repository from a test's working directory (a module directory under Maven). */
public final class RepoPaths {
  private RepoPaths() {
  }

  public static Path root() {
    String env = System.getenv("DOVETAIL_REPO");
    if (env != null && Files.isDirectory(Path.of(env, "manifests"))) {
      return Path.of(env);
    }
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("mvnw")) && Files.isDirectory(p.resolve("manifests"))) {
        return p;
      }
    }
    throw new IllegalStateException("cannot find the Dovetail repository above " + Path.of("").toAbsolutePath());
  }

  public static Path manifests() {
    return root().resolve("manifests");
  }
}
