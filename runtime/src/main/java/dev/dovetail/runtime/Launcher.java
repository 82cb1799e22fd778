package dev.dovetail.runtime;

import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;

/**
 * Runs a component's picocli command: parses options (printing help and clear errors), then keeps the
 * process alive until SIGTERM/SIGINT, when the component's shutdown runs.
 */
public final class Launcher {
  private Launcher() {
  }

  /** A started component. */
  public interface Running {
    /** Stops everything the component started; called once on shutdown. */
    void shutdown();
  }

  /** Parses {@code args} into {@code command} and runs it; returns the process exit code. */
  public static int run(Object command, String[] args) {
    CommandLine cli = new CommandLine(command);
    cli.setCaseInsensitiveEnumValuesAllowed(true);
    cli.setUsageHelpAutoWidth(true);
    return cli.execute(args);
  }

  /** Blocks the calling (main) thread until the JVM is asked to stop, then shuts the component down. */
  public static int awaitShutdown(Running running) {
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        running.shutdown();
      } finally {
        stopped.countDown();
      }
    }, "dovetail-shutdown"));
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }
}
