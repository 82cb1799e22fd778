package dev.dovetail.interruption.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Projected service-account tokens rotate: the agent must pick the new one up. */
class BearerTokenTest {
  /** A clock the test moves. */
  static final class MutableClock extends Clock {
    Instant now = Instant.parse("2026-01-01T00:00:00Z");

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @Test
  void aTokenFileIsReadAgainAfterAMinuteOrWhenRefused(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("token"), "first\n");
    MutableClock clock = new MutableClock();
    BearerToken token = BearerToken.fromFile(file, clock);
    assertThat(token.value()).isEqualTo("first");

    Files.writeString(file, "second");
    clock.now = clock.now.plus(Duration.ofSeconds(30));
    assertThat(token.value()).as("cached within the minute").isEqualTo("first");
    clock.now = clock.now.plus(Duration.ofSeconds(30));
    assertThat(token.value()).isEqualTo("second");

    Files.writeString(file, "third");
    token.invalidate();
    assertThat(token.value()).as("a 401 reads it again at once").isEqualTo("third");
  }

  @Test
  void keepsTheLastTokenWhileTheFileIsBeingReplacedButFailsAtStartWithout(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("token"), "kept");
    MutableClock clock = new MutableClock();
    BearerToken token = BearerToken.fromFile(file, clock);
    Files.delete(file);
    clock.now = clock.now.plus(Duration.ofMinutes(2));
    assertThat(token.value()).isEqualTo("kept");
    assertThatThrownBy(() -> BearerToken.fromFile(dir.resolve("missing"), clock)).hasMessageContaining("cannot read the token file");
  }

  @Test
  void aFixedTokenIsStripped() {
    assertThat(BearerToken.of(" abc \n").value()).isEqualTo("abc");
  }
}
