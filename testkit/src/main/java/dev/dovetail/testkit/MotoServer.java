package dev.dovetail.testkit;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * moto server, the real AWS wire-protocol stand-in (SQS, EventBridge, EC2, SSM), on a loopback port:
 * installed by scripts/build-control-plane into a version-keyed virtualenv. Any credentials and Region
 * are accepted; each server starts empty. Without it tests skip with the reason, unless
 * {@code DOVETAIL_REQUIRE_CLUSTER} forbids skipping.
 */
public final class MotoServer implements AutoCloseable {
  /** moto accepts any key pair; the account it reports is 123456789012. */
  public static final String ACCESS_KEY = "testing";
  public static final String SECRET_KEY = "testing";
  public static final String REGION = "us-east-1";

  private final LocalServer server;

  private MotoServer(LocalServer server) {
    this.server = server;
  }

  public static String version() {
    return K8sBinaries.scriptSetting("DOVETAIL_MOTO_VERSION");
  }

  /** Where scripts/build-control-plane installs it. */
  public static Path binary() {
    return K8sBinaries.cacheRoot().resolve("tools").resolve("moto-" + version()).resolve("bin").resolve("moto_server");
  }

  public static Optional<Path> require() {
    return LocalServer.require(binary(), "moto server", "install it with scripts/build-control-plane; needs python3 with venv");
  }

  public static MotoServer start() {
    Path bin = require().orElseThrow();
    int port = Ports.free();
    return new MotoServer(LocalServer.start("moto server", List.of(bin.toString(), "-H", "127.0.0.1", "-p", Integer.toString(port)), port,
        Map.of("MOTO_EC2_ENABLE_INSTANCE_TYPE_VALIDATION", "true")));
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
