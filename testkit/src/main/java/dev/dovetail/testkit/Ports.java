package dev.dovetail.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;

/** Loopback ports for the processes and servers tests start. */
public final class Ports {
  private Ports() {
  }

  /** A port nothing listens on right now (the kernel's pick; free until someone takes it). */
  public static int free() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
