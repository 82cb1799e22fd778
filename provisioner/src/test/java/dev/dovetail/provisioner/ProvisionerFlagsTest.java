package dev.dovetail.provisioner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.dovetail.runtime.Launcher;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

/**
 * The provisioner's command line refuses bad values before it connects to anything: the process ends
 * with a non-zero status and a message naming the flag. Values the parser cannot read are usage errors
 * (status 2, on stderr); values it reads but the provisioner cannot run with fail the start (status 1,
 * logged).
 */
class ProvisionerFlagsTest {
  private static final int USAGE = 2;
  private static final int FAILED_START = 1;
  private static final String[] AWS = {"--cloud-provider=aws", "--cluster-endpoint=https://api.example.com", "--cluster-ca-bundle=Q0E="};

  static Stream<Arguments> badValues() {
    return Stream.of(
        Arguments.of(List.of("--batch-idle-duration=soon"), USAGE, "--batch-idle-duration"),
        Arguments.of(List.of("--batch-max-duration=-10s"), USAGE, "--batch-max-duration"),
        Arguments.of(List.of("--registration-ttl=Never"), USAGE, "'Never' is not allowed"),
        Arguments.of(List.of("--garbage-collection-grace=5 minutes"), USAGE, "--garbage-collection-grace"),
        Arguments.of(List.of("--concurrency=many"), USAGE, "--concurrency"),
        Arguments.of(List.of("--concurrency=0"), FAILED_START, "--concurrency must be at least 1"),
        Arguments.of(List.of("--log-format=xml"), USAGE, "--log-format"),
        Arguments.of(List.of("--feature-gates=SpotToSpot=true"), FAILED_START, "--feature-gates: expected Name=true|false"),
        Arguments.of(List.of("--feature-gates=SpotToSpotConsolidation=yes"), FAILED_START, "--feature-gates: expected Name=true|false"),
        Arguments.of(List.of("--cloud-provider=gcp"), FAILED_START, "--cloud-provider must be sim or aws"),
        Arguments.of(List.of("--cloud-provider=aws", "--cluster-endpoint="), FAILED_START, "needs --cluster-endpoint"),
        Arguments.of(List.of("--cloud-provider=aws", "--cluster-endpoint=https://api.example.com", "--cluster-ca-bundle="), FAILED_START,
            "needs --cluster-ca-bundle"),
        Arguments.of(with(AWS, "--spot-allocation-strategy=cheapest"), FAILED_START, "--spot-allocation-strategy must be one of"),
        Arguments.of(with(AWS, "--aws-endpoint-url=ftp://moto:5000"), FAILED_START, "--aws-endpoint-url"),
        Arguments.of(List.of("--interruption-queue=dovetail", "--aws-endpoint-url=moto"), FAILED_START, "--aws-endpoint-url"),
        Arguments.of(List.of("--interruption-queue=dovetail", "--interruption-queue-visibility-timeout=13h"), FAILED_START,
            "--interruption-queue-visibility-timeout"),
        Arguments.of(List.of("--sim-launch-failure-rate=1.5"), FAILED_START, "--sim-launch-failure-rate"),
        Arguments.of(List.of("--sim-insufficient-capacity=m5.large/us-east-1a"), FAILED_START, "--sim-insufficient-capacity"),
        Arguments.of(List.of("--sim-insufficient-capacity=*/*/cheap"), FAILED_START, "--sim-insufficient-capacity"),
        Arguments.of(List.of("--leader-election-lease-duration=10s", "--leader-election-renew-deadline=15s"), FAILED_START,
            "--leader-election-renew-deadline"),
        Arguments.of(List.of("--leader-election-renew-deadline=2s", "--leader-election-retry-period=2s"), FAILED_START,
            "--leader-election-retry-period"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badValues")
  void aBadValueStopsTheProvisionerWithAMessageNamingIt(List<String> args, int status, String message) {
    // A value let through would start the provisioner, which then waits for an API server: fail instead of hanging.
    Outcome outcome = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> run(args), "the provisioner started instead of refusing " + args);
    assertThat(outcome.status()).as(outcome.toString()).isEqualTo(status);
    assertThat(status == USAGE ? outcome.stderr() : outcome.errors()).as(outcome.toString()).contains(message);
  }

  /** What one run of the command line printed and logged, and its exit status. */
  private record Outcome(int status, String stderr, String errors) {
  }

  private static Outcome run(List<String> flags) {
    List<String> args = new ArrayList<>(List.of("--metrics-port=0", "--health-probe-port=0", "--bind-address=127.0.0.1"));
    args.addAll(flags);
    Logger logger = (Logger) LoggerFactory.getLogger(ProvisionerMain.class);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    logger.addAppender(logged);
    PrintStream stderr = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      int status = Launcher.run(new ProvisionerMain(), args.toArray(String[]::new));
      String errors = logged.list.stream().filter(e -> e.getLevel() == Level.ERROR).map(ILoggingEvent::getFormattedMessage)
          .collect(Collectors.joining("\n"));
      return new Outcome(status, captured.toString(StandardCharsets.UTF_8), errors);
    } finally {
      System.setErr(stderr);
      logger.detachAppender(logged);
    }
  }

  private static List<String> with(String[] base, String... more) {
    List<String> out = new ArrayList<>(List.of(base));
    out.addAll(List.of(more));
    return out;
  }
}
