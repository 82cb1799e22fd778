package dev.dovetail.interruption.imds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dovetail.testkit.MetadataMock;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The IMDSv2 client and the notice reader against amazon-ec2-metadata-mock (the real IMDS stand-in,
 * IMDSv2 only), in its spot and scheduled-event modes.
 */
class ImdsMockTest {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  private static NoticeReader reader(URI endpoint, Duration tokenTtl) {
    return new NoticeReader(new Imds(HTTP, endpoint, tokenTtl, Duration.ofSeconds(2), Clock.systemUTC()), Clock.systemUTC());
  }

  @Test
  void aSpotInterruptionAppearsWhenTheMockIssuesIt() throws Exception {
    try (MetadataMock imds = MetadataMock.start("spot", "--mock-delay-sec", "3", "--action", "terminate")) {
      NoticeReader reader = reader(imds.endpoint(), Duration.ofMinutes(5));
      NoticeReader.Observation before = reader.observe().get(5, TimeUnit.SECONDS);
      assertThat(before.reachable()).isTrue();
      assertThat(before.spot()).as("no notice before the delay").isEmpty();
      await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
        NoticeReader.Observation o = reader.observe().get(5, TimeUnit.SECONDS);
        assertThat(o.spot()).hasValueSatisfying(n -> {
          assertThat(n.action()).isEqualTo("terminate");
          // AWS gives two minutes' warning; the mock does the same.
          assertThat(n.time()).isBetween(Instant.now().plusSeconds(60), Instant.now().plusSeconds(180));
        });
        assertThat(o.rebalance()).isPresent();
        assertThat(o.problems()).isEmpty();
      });
    }
  }

  @Test
  void shortLivedTokensAreRenewedWithoutFailedReads() throws Exception {
    try (MetadataMock imds = MetadataMock.start("spot", "--action", "stop")) {
      Imds client = new Imds(HTTP, imds.endpoint(), Duration.ofSeconds(1), Duration.ofSeconds(2), Clock.systemUTC());
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
      int reads = 0;
      while (System.nanoTime() < end) {
        assertThat(client.metadata("instance-id").get(5, TimeUnit.SECONDS)).as("read %d", reads).isPresent();
        reads++;
        Thread.sleep(300);
      }
      assertThat(reads).isGreaterThan(8);
    }
  }

  @Test
  void scheduledMaintenanceIsRead() throws Exception {
    try (MetadataMock imds = MetadataMock.start("events", "--code", "instance-stop", "--state", "active")) {
      NoticeReader.Observation o = reader(imds.endpoint(), Duration.ofMinutes(5)).observe().get(5, TimeUnit.SECONDS);
      assertThat(o.scheduled()).singleElement().satisfies(e -> {
        assertThat(e.code()).isEqualTo("instance-stop");
        assertThat(e.pending()).isTrue();
      });
      assertThat(o.spot()).isEmpty();
    }
  }

  @Test
  void anUnreachableServiceIsReportedNotThrown() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    NoticeReader.Observation o = reader(URI.create("http://127.0.0.1:" + closed), Duration.ofMinutes(5)).observe().get(10, TimeUnit.SECONDS);
    assertThat(o.reachable()).isFalse();
    assertThat(o.spot()).isEmpty();
    assertThat(o.problems()).isNotEmpty().allSatisfy(p -> assertThat(p).contains("metadata service unreachable"));
  }
}
