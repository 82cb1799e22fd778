package dev.dovetail.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where scripts/build-control-plane put the control-plane binaries: the version-keyed cache outside the
 * repository, in the layout fabric8 kube-api-test expects ({@code <cache>/k8s/<version>-<os>-<arch>}).
 * The version is read from {@code scripts/lib/common.sh}, the one place that names it.
 */
public final class K8sBinaries {
  /** What a real API server needs (kube-api-test checks kubectl too). */
  public static final List<String> API_SERVER = List.of("etcd", "kube-apiserver", "kubectl");
  /** What a whole kwokctl cluster needs. */
  public static final List<String> FULL_CLUSTER = List.of(
      "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kwok", "kwokctl");

  private K8sBinaries() {
  }

  public static Path cacheRoot() {
    String explicit = System.getenv("DOVETAIL_CACHE");
    if (explicit != null && !explicit.isBlank()) {
      return Path.of(explicit);
    }
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("dovetail");
  }

  public static String version() {
    return scriptSetting("DOVETAIL_K8S_VERSION");
  }

  /** A version pinned in scripts/lib/common.sh, the one place the scripts and the tests read them from. */
  static String scriptSetting(String variable) {
    Path common = RepoPaths.root().resolve("scripts/lib/common.sh");
    try {
      Matcher m = Pattern.compile("(?m)^" + Pattern.quote(variable) + "=\"([^\"]+)\"").matcher(Files.readString(common));
      if (!m.find()) {
        throw new IllegalStateException(variable + " not set in " + common);
      }
      return m.group(1);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static Path dir() {
    String explicit = System.getenv("DOVETAIL_BIN");
    if (explicit != null && !explicit.isBlank()) {
      return Path.of(explicit);
    }
    return cacheRoot().resolve("k8s").resolve(version() + "-" + os() + "-" + arch());
  }

  public static Path binary(String name) {
    return dir().resolve(name);
  }

  /** Binaries of the list that are missing or not executable. */
  public static List<String> missing(List<String> needed) {
    Path dir = dir();
    return needed.stream().filter(b -> !Files.isExecutable(dir.resolve(b))).toList();
  }

  static String os() {
    String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
    return os.contains("mac") ? "darwin" : os.contains("win") ? "windows" : "linux";
  }

  static String arch() {
    String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
    return switch (arch) {
      case "x86_64", "amd64" -> "amd64";
      case "aarch64", "arm64" -> "arm64";
      default -> arch;
    };
  }
}
