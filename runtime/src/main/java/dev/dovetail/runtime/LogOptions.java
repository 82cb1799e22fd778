package dev.dovetail.runtime;

import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * Logging options shared by every component. They must take effect before the first logger is
 * created, so {@link #apply()} sets the properties logback.xml reads.
 */
public final class LogOptions {
  /** Output formats. */
  public enum Format { json, text }

  @Option(names = "--log-format", defaultValue = "${env:DOVETAIL_LOG_FORMAT:-json}",
      description = "Log format: json (one object per line, for collectors) or text (for a terminal). Default: ${DEFAULT-VALUE}.")
  Format format;

  @Option(names = "--log-level", defaultValue = "${env:DOVETAIL_LOG_LEVEL:-INFO}",
      description = "Root log level: TRACE, DEBUG, INFO, WARN or ERROR. Default: ${DEFAULT-VALUE}.")
  String level;

  public void apply() {
    System.setProperty("dovetail.log.format", format.name());
    System.setProperty("dovetail.log.level", level.toUpperCase(Locale.ROOT));
  }
}
