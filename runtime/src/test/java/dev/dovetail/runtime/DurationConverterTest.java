package dev.dovetail.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

/** Durations on the command line, as Go reads Karpenter's flags. */
class DurationConverterTest {
  private final DurationConverter converter = new DurationConverter();

  @Test
  void readsGroupsOfAnIntegerAndAUnitAndABareZero() {
    assertThat(converter.convert("30s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(converter.convert("10m")).isEqualTo(Duration.ofMinutes(10));
    assertThat(converter.convert("1h30m")).isEqualTo(Duration.ofMinutes(90));
    assertThat(converter.convert("720h")).isEqualTo(Duration.ofDays(30));
    assertThat(converter.convert("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(converter.convert("1s500ms")).isEqualTo(Duration.ofMillis(1500));
    assertThat(converter.convert("0")).isEqualTo(Duration.ZERO);
    assertThat(converter.convert("0s")).isEqualTo(Duration.ZERO);
  }

  @Test
  void rejectsWhatIsNotADurationSayingWhy() {
    for (String bad : new String[] {"30d", "10 minutes", "", "h", "1.5h", "-1s", "s30", "never"}) {
      assertThatThrownBy(() -> converter.convert(bad)).as(bad).isInstanceOf(TypeConversionException.class)
          .hasMessage("not a duration (like 30s, 10m, 1h30m, 250ms): '" + bad + "'");
    }
    assertThatThrownBy(() -> converter.convert(null)).isInstanceOf(TypeConversionException.class);
    assertThatThrownBy(() -> converter.convert("Never")).isInstanceOf(TypeConversionException.class)
        .hasMessage("'Never' is not allowed here");
    assertThatThrownBy(() -> converter.convert("99999999999999999999s")).isInstanceOf(TypeConversionException.class)
        .hasMessageContaining("out of range");
    assertThatThrownBy(() -> converter.convert("9223372036854775807h")).isInstanceOf(TypeConversionException.class)
        .hasMessageContaining("out of range");
  }
}
