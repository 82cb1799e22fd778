package dev.dovetail.extender;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dovetail.api.karpenter.v1.Durations;
import dev.dovetail.runtime.DurationConverter;
import java.time.Duration;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * The two duration grammars agree: the command line's (runtime's DurationConverter, Go's flag syntax) and
 * the CRD fields' (api's Durations, Karpenter's OpenAPI patterns). They live apart because runtime does not
 * depend on the CRD model; this module sees both. Every text a CRD field accepts reads the same as a flag.
 */
class DurationGrammarsTest {
  @Provide
  Arbitrary<String> crdDurations() {
    Arbitrary<String> group = Arbitraries.integers().between(0, 100_000).flatMap(n -> Arbitraries.of("h", "m", "s").map(u -> n + u));
    return group.list().ofMinSize(1).ofMaxSize(5).map(groups -> String.join("", groups));
  }

  @Property(tries = 2000)
  void everyDurationACrdFieldAcceptsReadsTheSameAsAFlag(@ForAll("crdDurations") String text) {
    assertThat(text).matches(Durations.DURATION_PATTERN);
    assertThat(Durations.parse(text)).contains(DurationConverter.parse(text));
  }

  @Test
  void whatOnlyOneOfThemAccepts() {
    assertThat(Durations.parse("Never")).isEmpty();
    assertThatThrownBy(() -> DurationConverter.parse("Never")).hasMessageContaining("not allowed");
    assertThat(DurationConverter.parse("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat("250ms").doesNotMatch(Durations.DURATION_OR_NEVER_PATTERN);
    assertThat(DurationConverter.parse("0")).isEqualTo(Duration.ZERO);
    assertThat("0").doesNotMatch(Durations.DURATION_OR_NEVER_PATTERN);
    for (String bad : new String[] {"30d", "1.5h", "", "h", "-1s"}) {
      assertThatThrownBy(() -> Durations.parse(bad)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> DurationConverter.parse(bad)).isInstanceOf(IllegalArgumentException.class);
    }
  }
}
