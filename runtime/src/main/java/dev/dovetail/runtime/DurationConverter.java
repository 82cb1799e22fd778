package dev.dovetail.runtime;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Reads command-line durations as Go reads Karpenter's flags: groups of an integer and a unit (h, m, s,
 * ms) such as 30s, 10m, 1h30m or 250ms, and a bare 0.
 *
 * <p>This is the flags' grammar, so it lives with the command line. The CRD model's duration fields have
 * a narrower one of their own ({@code dev.dovetail.api.karpenter.v1.Durations}: h, m and s only, as
 * Karpenter's OpenAPI patterns allow, or {@code Never}), which the api module parses without this
 * process plumbing; a test that sees both modules checks that the two agree wherever both accept a text.
 */
public final class DurationConverter implements ITypeConverter<Duration> {
  private static final Pattern FLAG = Pattern.compile("([0-9]+(ms|h|m|s))+");
  private static final Pattern GROUP = Pattern.compile("([0-9]+)(ms|h|m|s)");

  @Override
  public Duration convert(String value) {
    try {
      return parse(value);
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(e.getMessage());
    }
  }

  /**
   * Parses a flag's duration.
   *
   * @throws IllegalArgumentException when the text is not one (or is too long for a {@link Duration})
   */
  public static Duration parse(String value) {
    if ("0".equals(value)) {
      return Duration.ZERO;
    }
    if ("Never".equals(value)) {
      throw new IllegalArgumentException("'Never' is not allowed here");
    }
    if (value == null || !FLAG.matcher(value).matches()) {
      throw new IllegalArgumentException("not a duration (like 30s, 10m, 1h30m, 250ms): '" + value + "'");
    }
    try {
      Duration total = Duration.ZERO;
      Matcher m = GROUP.matcher(value);
      while (m.find()) {
        long n = Long.parseLong(m.group(1));
        total = total.plus(switch (m.group(2)) {
          case "ms" -> Duration.ofMillis(n);
          case "s" -> Duration.ofSeconds(n);
          case "m" -> Duration.ofMinutes(n);
          default -> Duration.ofHours(n);
        });
      }
      return total;
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException("duration out of range: '" + value + "'");
    }
  }
}
