package dev.dovetail.testkit;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * amazon-ec2-metadata-mock (AEMM), the real IMDS stand-in, on a loopback port: built by
 * scripts/build-control-plane into the version-keyed cache. Tests that need it call {@link #start};
 * without the binary they skip with the reason, unless {@code DOVETAIL_REQUIRE_CLUSTER} forbids skipping.
 */
public final class MetadataMock implements AutoCloseable {
  private final LocalServer server;

  private MetadataMock(LocalServer server) {
    this.server = server;
  }

  public static String version() {
    return K8sBinaries.scriptSetting("DOVETAIL_AEMM_VERSION");
  }

  /** Where scripts/build-control-plane installs the binary. */
  public static Path binary() {
    return K8sBinaries.cacheRoot().resolve("tools").resolve("ec2-metadata-mock-" + version() + "-" + K8sBinaries.os() + "-" + K8sBinaries.arch())
        .resolve("ec2-metadata-mock");
  }

  /** The binary, or a skip (a failure when real components are required) naming what is missing. */
  public static Optional<Path> require() {
    return LocalServer.require(binary(), "amazon-ec2-metadata-mock", "build it with scripts/build-control-plane; needs Go");
  }

  /**
   * Starts AEMM in IMDSv2-only mode with the given command and flags (for example {@code spot -d 2}),
   * on a free loopback port, and waits until it answers.
   */
  public static MetadataMock start(String... args) {
    return startOn(Ports.free(), args);
  }

  /**
   * As {@link #start}, on a loopback port the caller chose: for a client pointed at the port before the
   * metadata service answers there (an IMDS that comes up late).
   */
  public static MetadataMock startOn(int port, String... args) {
    Path bin = require().orElseThrow();
    List<String> command = new ArrayList<>(List.of(bin.toString()));
    command.addAll(List.of(args));
    command.addAll(List.of("--imdsv2", "--hostname", "127.0.0.1", "--port", Integer.toString(port)));
    // AEMM reads and may write a config under $HOME: LocalServer gives it a directory of its own.
    return new MetadataMock(LocalServer.start("amazon-ec2-metadata-mock", command, port, Map.of()));
  }

  public URI endpoint() {
    return server.endpoint();
  }

  public Path log() {
    return server.log();
  }

  @Override
  public void close() {
    server.close();
  }
}
