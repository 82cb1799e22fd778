package dev.dovetail.interruption.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dovetail.runtime.ManualClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Projected service-account tokens rotate: the agent must pick the new one up. */
class BearerTokenTest {
  @Test
  void aTokenFileIsReadAgainAfterAMinuteOrWhenRefused(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("token"), "first\n");
    ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
    BearerToken token = BearerToken.fromFile(file, clock);
    assertThat(token.value()).isEqualTo("first");

    Files.writeString(file, "second");
    clock.advance(Duration.ofSeconds(30));
    assertThat(token.value()).as("cached within the minute").isEqualTo("first");
    clock.advance(Duration.ofSeconds(30));
    assertThat(token.value()).isEqualTo("second");

    Files.writeString(file, "third");
    token.invalidate();
    assertThat(token.value()).as("a 401 reads it again at once").isEqualTo("third");
  }

  @Test
  void keepsTheLastTokenWhileTheFileIsBeingReplacedButFailsAtStartWithout(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("token"), "kept");
    ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
    BearerToken token = BearerToken.fromFile(file, clock);
    Files.delete(file);
    clock.advance(Duration.ofMinutes(2));
    assertThat(token.value()).isEqualTo("kept");
    assertThatThrownBy(() -> BearerToken.fromFile(dir.resolve("missing"), clock)).hasMessageContaining("cannot read the token file");
  }

  @Test
  void aFixedTokenIsStripped() {
    assertThat(BearerToken.of(" abc \n").value()).isEqualTo("abc");
  }
}
