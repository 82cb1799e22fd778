package dev.dovetail.runtime;

import dev.dovetail.api.karpenter.v1.Durations;
import java.time.Duration;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Reads durations the Karpenter way (30s, 10m, 1h30m). */
public final class DurationConverter implements ITypeConverter<Duration> {
  @Override
  public Duration convert(String value) {
    try {
      return Durations.parse(value).orElseThrow(() -> new TypeConversionException("'Never' is not allowed here"));
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(e.getMessage());
    }
  }
}
