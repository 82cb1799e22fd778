package dev.dovetail.api.karpenter.v1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class DurationsTest {
  @Test
  void parsesKarpenterDurations() {
    assertThat(Durations.parse("720h")).contains(Duration.ofDays(30));
    assertThat(Durations.parse("1h30m")).contains(Duration.ofMinutes(90));
    assertThat(Durations.parse("0s")).contains(Duration.ZERO);
    assertThat(Durations.parse("Never")).isEmpty();
  }

  @Test
  void rejectsWhatTheCrdPatternRejects() {
    for (String bad : new String[] {"30d", "10 minutes", "", "h", "1.5h", "never"}) {
      assertThat(bad).doesNotMatch(Durations.DURATION_OR_NEVER_PATTERN);
      assertThatThrownBy(() -> Durations.parse(bad)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(bad);
    }
  }

  @Property
  void everyDurationTheCrdAcceptsParsesToItsSum(@ForAll @IntRange(max = 1000) int h, @ForAll @IntRange(max = 1000) int m,
      @ForAll @IntRange(max = 1000) int s) {
    String text = h + "h" + m + "m" + s + "s";
    assertThat(text).matches(Durations.DURATION_OR_NEVER_PATTERN);
    assertThat(Durations.parse(text)).contains(Duration.ofHours(h).plusMinutes(m).plusSeconds(s));
  }
}
