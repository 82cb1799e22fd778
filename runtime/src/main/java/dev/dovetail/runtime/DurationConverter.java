package dev.dovetail.runtime;

import dev.dovetail.api.karpenter.v1.Durations;
import java.time.Duration;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Reads durations the Karpenter way (30s, 10m, 1h30m), plus milliseconds (250ms) and a bare 0. */
public final class DurationConverter implements ITypeConverter<Duration> {
  @Override
  public Duration convert(String value) {
    if (value != null && value.matches("[0-9]+ms")) {
      return Duration.ofMillis(Long.parseLong(value.substring(0, value.length() - 2)));
    }
    if ("0".equals(value)) {
      return Duration.ZERO;
    }
    try {
      return Durations.parse(value).orElseThrow(() -> new TypeConversionException("'Never' is not allowed here"));
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(e.getMessage());
    }
  }
}
