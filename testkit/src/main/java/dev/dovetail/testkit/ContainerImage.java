package dev.dovetail.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A container image as an image tarball (Jib's OCI layout, or a {@code docker save} archive such as the base
 * scripts/build-base-image writes), read without a container engine: its reference, configuration and layers, its
 * file system unpacked, and its entrypoint run in that file system. Running uses an unprivileged user and mount
 * namespace ({@code unshare -rm}) with the host's {@code /proc} and {@code /dev} bound in and the unpacked layers as
 * root, so the image's own Java runtime and libraries run its own classpath; the network is the host's.
 */
public final class ContainerImage {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Set by scripts/test (from scripts/build-base-image); the images are built only when it is. */
  public static final String BASE_IMAGE_ENV = "DOVETAIL_BASE_IMAGE";

  /** An image's configuration, as a runtime reads it. */
  public record Config(String user, List<String> entrypoint, List<String> cmd, Map<String, String> env, String workingDir,
      Map<String, String> labels, List<String> diffIds) {
  }

  /** A layer: its digest (compressed, as stored) and its entries' paths. */
  public record Layer(String digest, String mediaType, List<String> paths) {
  }

  private final Path layout;
  private final String reference;
  private final Config config;
  private final List<Layer> layers;

  private ContainerImage(Path layout, String reference, Config config, List<Layer> layers) {
    this.layout = layout;
    this.reference = reference;
    this.config = config;
    this.layers = layers;
  }

  /**
   * The tarball, or a skip (a failure when real components are required) saying why it is missing: the images are
   * built only when scripts/test names a base image.
   */
  public static Path require(Path tarball) {
    if (Files.isRegularFile(tarball)) {
      return tarball;
    }
    LocalServer.skip("image " + tarball + " is missing (scripts/test builds the images: it sets " + BASE_IMAGE_ENV
        + " from scripts/build-base-image, and ./mvnw package builds them then)");
    return tarball;
  }

  /** Skips (fails, when real components are required) unless images can be run here: see {@link #cannotRun()}. */
  public static void requireRunnable() {
    cannotRun().ifPresent(LocalServer::skip);
  }


  /** The base image scripts/build-base-image built, as {@link #BASE_IMAGE_ENV} names it. */
  public static Path requireBase() {
    String base = System.getenv(BASE_IMAGE_ENV);
    return require(Path.of(base == null || base.isBlank() ? "<" + BASE_IMAGE_ENV + " unset>" : base));
  }

  /** Unpacks the tarball into {@code work} and reads its index (or manifest), configuration and layers. */
  public static ContainerImage read(Path tarball, Path work) throws IOException {
    Path layout = Files.createDirectories(work.resolve("layout"));
    tar(List.of("-xf", tarball.toString(), "-C", layout.toString()));
    JsonNode manifest;
    String reference;
    List<String> layerFiles = new ArrayList<>();
    List<String> mediaTypes = new ArrayList<>();
    JsonNode configJson;
    if (Files.exists(layout.resolve("index.json"))) {
      JsonNode index = JSON.readTree(layout.resolve("index.json").toFile()).get("manifests").get(0);
      reference = index.path("annotations").path("org.opencontainers.image.ref.name").asText();
      manifest = JSON.readTree(blob(layout, index.get("digest").asText()).toFile());
      configJson = JSON.readTree(blob(layout, manifest.get("config").get("digest").asText()).toFile());
      for (JsonNode l : manifest.get("layers")) {
        layerFiles.add(layout.relativize(blob(layout, l.get("digest").asText())).toString());
        mediaTypes.add(l.get("mediaType").asText());
      }
    } else {
      manifest = JSON.readTree(layout.resolve("manifest.json").toFile()).get(0);
      reference = manifest.path("RepoTags").path(0).asText();
      configJson = JSON.readTree(layout.resolve(manifest.get("Config").asText()).toFile());
      for (JsonNode l : manifest.get("Layers")) {
        layerFiles.add(l.asText());
        mediaTypes.add("application/vnd.docker.image.rootfs.diff.tar");
      }
    }
    JsonNode c = configJson.path("config");
    Map<String, String> env = new LinkedHashMap<>();
    c.path("Env").forEach(e -> {
      String[] kv = e.asText().split("=", 2);
      env.put(kv[0], kv.length > 1 ? kv[1] : "");
    });
    Map<String, String> labels = new LinkedHashMap<>();
    c.path("Labels").fields().forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
    List<String> diffIds = new ArrayList<>();
    configJson.path("rootfs").path("diff_ids").forEach(d -> diffIds.add(d.asText()));
    Config config = new Config(c.path("User").asText(), strings(c.path("Entrypoint")), strings(c.path("Cmd")), env,
        c.path("WorkingDir").asText(), labels, diffIds);
    List<Layer> layers = new ArrayList<>();
    for (int i = 0; i < layerFiles.size(); i++) {
      String listing = tar(List.of("-tf", layout.resolve(layerFiles.get(i)).toString())).stdout();
      List<String> paths = listing.lines().map(p -> "/" + p.replaceFirst("^\\./", "").replaceFirst("/$", "")).toList();
      layers.add(new Layer(layerFiles.get(i), mediaTypes.get(i), paths));
    }
    return new ContainerImage(layout, reference, config, layers);
  }

  public String reference() {
    return reference;
  }

  public Config config() {
    return config;
  }

  public List<Layer> layers() {
    return layers;
  }

  /** Extracts the layers in order into {@code root} (the images here delete nothing, so no whiteouts to apply). */
  public Path unpack(Path root) throws IOException {
    Files.createDirectories(root);
    for (Layer layer : layers) {
      tar(List.of("-xf", layout.resolve(layer.digest()).toString(), "-C", root.toString()));
    }
    return root;
  }

  /** The reason an image cannot be run here (no unprivileged user namespaces), or empty. */
  public static Optional<String> cannotRun() {
    ProcessResult r = Processes.run(List.of("unshare", "-rm", "true"), Map.of(), Duration.ofSeconds(10));
    return r.ok() ? Optional.empty()
        : Optional.of("unprivileged user namespaces are not available (unshare -rm true: exit " + r.exitCode() + " " + r.stderr().trim() + ")");
  }

  /**
   * How the container's file system is mounted, as its pod spec says: the root read-only
   * ({@code readOnlyRootFilesystem}) and an empty, writable file system at each {@code emptyDir} mount.
   */
  public record Mounts(boolean readOnlyRoot, List<String> emptyDirs) {
    /** A writable root and no volumes. */
    public static final Mounts WRITABLE = new Mounts(false, List.of());

    public Mounts {
      emptyDirs = List.copyOf(emptyDirs);
    }
  }

  /** {@link #command(Path, List, Map, Mounts)} with a writable root. */
  public List<String> command(Path root, List<String> args, Map<String, String> extraEnv) {
    return command(root, args, extraEnv, Mounts.WRITABLE);
  }

  /**
   * The command that runs the image's entrypoint with {@code args} in the unpacked {@code root}, in its working
   * directory, with exactly the image's environment plus {@code extraEnv} and the file system mounted as {@code mounts}
   * says, as a container runtime would (the user stays the namespace's root: the image's user is checked from its
   * configuration).
   */
  public List<String> command(Path root, List<String> args, Map<String, String> extraEnv, Mounts mounts) {
    StringBuilder setup = new StringBuilder("mount --bind \"$0\" \"$0\" && mount --rbind /proc \"$0/proc\" && mount --rbind /dev \"$0/dev\"");
    if (mounts.readOnlyRoot()) {
      setup.append(" && mount -o remount,bind,ro \"$0\"");
    }
    for (String dir : mounts.emptyDirs()) {
      setup.append(" && mount -t tmpfs tmpfs \"$0").append(dir).append('"');
    }
    setup.append(" && exec /usr/bin/env -i \"$@\"");
    List<String> command = new ArrayList<>(List.of("unshare", "-rm", "/bin/sh", "-c", setup.toString(), root.toString()));
    Map<String, String> env = new LinkedHashMap<>(config.env());
    env.putAll(extraEnv);
    env.forEach((k, v) -> command.add(k + "=" + v));
    command.addAll(List.of(host("unshare"), "--root=" + root, "--wd=" + (config.workingDir().isEmpty() ? "/" : config.workingDir())));
    command.addAll(config.entrypoint());
    command.addAll(config.cmd().isEmpty() || !args.isEmpty() ? args : config.cmd());
    return command;
  }

  private static String host(String program) {
    for (String dir : List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin")) {
      if (Files.isExecutable(Path.of(dir, program))) {
        return dir + "/" + program;
      }
    }
    throw new IllegalStateException(program + " is not installed");
  }

  private static Path blob(Path layout, String digest) {
    String[] parts = digest.split(":", 2);
    return layout.resolve("blobs").resolve(parts[0]).resolve(parts[1]);
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  private static ProcessResult tar(List<String> args) {
    List<String> command = new ArrayList<>(List.of("tar", "--warning=no-unknown-keyword", "--no-same-owner"));
    command.addAll(args);
    try {
      return Processes.run(command, Map.of(), Duration.ofMinutes(2)).orThrow(String.join(" ", command));
    } catch (IllegalStateException e) {
      throw new UncheckedIOException(new IOException(e.getMessage(), e));
    }
  }
}
