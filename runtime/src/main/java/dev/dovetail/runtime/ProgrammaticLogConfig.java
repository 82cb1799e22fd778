package dev.dovetail.runtime;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import ch.qos.logback.core.status.NopStatusListener;
import java.util.Locale;
import net.logstash.logback.encoder.LogstashEncoder;
import net.logstash.logback.fieldnames.LogstashFieldNames;

/**
 * logback.xml in code: the same appenders, encoders, field names and levels, without logback's XML
 * configurator, which loads an XML parser and several hundred classes. Not registered here, so every
 * component reads logback.xml; a component for which those classes count (the per-node agent) registers it
 * in its own {@code META-INF/services/ch.qos.logback.classic.spi.Configurator}. Any change to logback.xml
 * must be made here too (LogConfigParityTest in the interrupt listener compares the two).
 */
public final class ProgrammaticLogConfig extends ContextAwareBase implements Configurator {
  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (ProgrammaticLogConfig.class.getClassLoader().getResource("logback-test.xml") != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;  // a test run: its logback-test.xml decides, as logback would have it
    }
    apply(context);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  /** Configures {@code context} as logback.xml does. */
  public static void apply(LoggerContext context) {
    context.getStatusManager().add(new NopStatusListener());
    boolean text = "text".equals(System.getProperty("dovetail.log.format", "json"));
    ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
    appender.setContext(context);
    appender.setName(text ? "text" : "json");
    appender.setEncoder(text ? textEncoder(context) : jsonEncoder(context));
    appender.start();
    context.getLogger("io.fabric8.kubernetes.client.informers").setLevel(Level.WARN);
    context.getLogger("io.netty").setLevel(Level.WARN);
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.toLevel(System.getProperty("dovetail.log.level", "INFO").toUpperCase(Locale.ROOT), Level.DEBUG));
    root.addAppender(appender);
  }

  private static Encoder<ILoggingEvent> jsonEncoder(LoggerContext context) {
    LogstashFieldNames names = new LogstashFieldNames();
    names.setTimestamp("time");
    names.setVersion("[ignore]");
    names.setLevelValue("[ignore]");
    names.setThread("thread");
    names.setLogger("logger");
    LogstashEncoder encoder = new LogstashEncoder();
    encoder.setContext(context);
    encoder.setFieldNames(names);
    encoder.start();
    return encoder;
  }

  private static Encoder<ILoggingEvent> textEncoder(LoggerContext context) {
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern("%d{HH:mm:ss.SSS} %-5level %logger{1} %msg %kvp %mdc%n%ex");
    encoder.start();
    return encoder;
  }
}
