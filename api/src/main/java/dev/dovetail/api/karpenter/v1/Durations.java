package dev.dovetail.api.karpenter.v1;

import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Karpenter's duration strings: groups of an integer and a unit (s, m, h), such as {@code 720h} or
 * {@code 1h30m}, or {@code Never} where the field allows it.
 */
public final class Durations {
  private Durations() {
  }

  public static final String NEVER = "Never";
  /** A duration (units s, m, h) or {@code Never}. */
  public static final String DURATION_OR_NEVER_PATTERN = "^(([0-9]+(s|m|h))+|Never)$";
  /** A duration (units s, m, h). */
  public static final String DURATION_PATTERN = "^([0-9]+(s|m|h))+$";
  /** A budget's duration: hours and/or minutes, with a tolerated trailing {@code 0s}. */
  public static final String BUDGET_DURATION_PATTERN = "^((([0-9]+(h|m))|([0-9]+h[0-9]+m))(0s)?)$";

  private static final Pattern GROUP = Pattern.compile("([0-9]+)([smh])");

  /**
   * Parses a duration string; {@code Never} gives an empty result.
   *
   * @throws IllegalArgumentException when the text is neither a duration nor {@code Never}
   */
  public static Optional<Duration> parse(String text) {
    if (NEVER.equals(text)) {
      return Optional.empty();
    }
    if (text == null || !text.matches("([0-9]+[smh])+")) {
      throw new IllegalArgumentException("not a duration (like 30s, 10m, 1h30m) or Never: '" + text + "'");
    }
    Duration total = Duration.ZERO;
    Matcher m = GROUP.matcher(text);
    while (m.find()) {
      long n = Long.parseLong(m.group(1));
      total = total.plus(switch (m.group(2)) {
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        default -> Duration.ofHours(n);
      });
    }
    return Optional.of(total);
  }
}
