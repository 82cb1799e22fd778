package dev.dovetail.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A real helper server (the metadata mock, moto) run as a child process on a loopback port, with its
 * output in a log file of its own; {@link #close()} stops it.
 */
public final class LocalServer implements AutoCloseable {
  private final Process process;
  private final URI endpoint;
  private final Path log;

  private LocalServer(Process process, URI endpoint, Path log) {
    this.process = process;
    this.endpoint = endpoint;
    this.log = log;
  }

  /** The binary, or a skip (a failure when real components are required) naming what is missing and how to get it. */
  static Optional<Path> require(Path binary, String what, String howToGet) {
    if (Files.isExecutable(binary)) {
      return Optional.of(binary);
    }
    skip(what + " is missing at " + binary + " (" + howToGet + ")");
    return Optional.empty();
  }

  /** Skips the test with the reason printed, or fails it when {@code DOVETAIL_REQUIRE_CLUSTER} forbids skipping. */
  static void skip(String reason) {
    if (ControlPlaneExtension.requireCluster()) {
      throw new IllegalStateException(ControlPlaneExtension.REQUIRE_ENV + " is set, so tests may not skip: " + reason);
    }
    System.err.println("[dovetail] SKIPPED: " + reason);
    Assumptions.abort(reason);
  }

  /**
   * Runs the command (its port already chosen, see {@link #Ports.free()}) in a fresh directory that is also
   * its HOME, and waits up to 30 s until it accepts connections on that port.
   */
  static LocalServer start(String what, List<String> command, int port, Map<String, String> env) {
    try {
      Path dir = Files.createTempDirectory("dovetail-" + what.replaceAll("[^a-z0-9]+", "-") + "-");
      Path log = dir.resolve("server.log");
      ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
      pb.environment().put("HOME", dir.toString());
      pb.environment().putAll(env);
      Process p = pb.start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (System.nanoTime() < deadline) {
        if (!p.isAlive()) {
          throw new IllegalStateException(what + " exited: " + Files.readString(log));
        }
        try (Socket s = new Socket()) {
          s.connect(new InetSocketAddress("127.0.0.1", port), 200);
          return new LocalServer(p, URI.create("http://127.0.0.1:" + port), log);
        } catch (IOException notYet) {
          Thread.sleep(50);
        }
      }
      p.destroyForcibly();
      throw new IllegalStateException(what + " did not listen on port " + port + " within 30 s: " + Files.readString(log));
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
