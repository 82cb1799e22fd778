package dev.dovetail.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * amazon-ec2-metadata-mock (AEMM), the real IMDS stand-in, on a loopback port: built by
 * scripts/build-control-plane into the version-keyed cache. Tests that need it call {@link #start};
 * without the binary they skip with the reason, unless {@code DOVETAIL_REQUIRE_CLUSTER} forbids skipping.
 */
public final class MetadataMock implements AutoCloseable {
  private final Process process;
  private final URI endpoint;
  private final Path log;

  private MetadataMock(Process process, URI endpoint, Path log) {
    this.process = process;
    this.endpoint = endpoint;
    this.log = log;
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
    Path bin = binary();
    if (Files.isExecutable(bin)) {
      return Optional.of(bin);
    }
    String reason = "amazon-ec2-metadata-mock is missing at " + bin + " (build it with scripts/build-control-plane; needs Go)";
    if (ControlPlaneExtension.requireCluster()) {
      throw new IllegalStateException(ControlPlaneExtension.REQUIRE_ENV + " is set, so tests may not skip: " + reason);
    }
    System.err.println("[dovetail] SKIPPED: " + reason);
    Assumptions.abort(reason);
    return Optional.empty();
  }

  /**
   * Starts AEMM in IMDSv2-only mode with the given command and flags (for example {@code spot -d 2}),
   * on a free loopback port, and waits until it answers.
   */
  public static MetadataMock start(String... args) {
    Path bin = require().orElseThrow();
    int port = freePort();
    List<String> command = new ArrayList<>(List.of(bin.toString()));
    command.addAll(List.of(args));
    command.addAll(List.of("--imdsv2", "--hostname", "127.0.0.1", "--port", Integer.toString(port)));
    try {
      Path dir = Files.createTempDirectory("aemm-");
      Path log = dir.resolve("aemm.log");
      // AEMM reads and may write a config under $HOME: give it a directory of its own.
      ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
      pb.environment().put("HOME", dir.toString());
      Process p = pb.start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (System.nanoTime() < deadline) {
        if (!p.isAlive()) {
          throw new IllegalStateException("amazon-ec2-metadata-mock exited: " + Files.readString(log));
        }
        try (Socket s = new Socket()) {
          s.connect(new InetSocketAddress("127.0.0.1", port), 200);
          return new MetadataMock(p, URI.create("http://127.0.0.1:" + port), log);
        } catch (IOException notYet) {
          Thread.sleep(50);
        }
      }
      p.destroyForcibly();
      throw new IllegalStateException("amazon-ec2-metadata-mock did not listen on port " + port + " within 20 s: " + Files.readString(log));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public URI endpoint() {
    return endpoint;
  }

  public Path log() {
    return log;
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
