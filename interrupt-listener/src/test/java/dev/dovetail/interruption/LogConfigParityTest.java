package dev.dovetail.interruption;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.Configurator;
import dev.dovetail.runtime.ProgrammaticLogConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.MDC;

/**
 * The agent configures logback in code (ProgrammaticLogConfig, registered in its META-INF/services) to
 * skip the XML configurator's classes: its log lines must be the ones runtime's logback.xml gives the
 * other components, in both formats and at any level.
 */
class LogConfigParityTest {
  @Test
  void theAgentRegistersTheProgrammaticConfiguration() {
    assertThat(ServiceLoader.load(Configurator.class).stream().map(p -> p.type().getName()))
        .contains(ProgrammaticLogConfig.class.getName());
  }

  @Test
  void jsonAndTextLinesMatchLogbackXml() throws Exception {
    assertThat(lines(() -> fromXml("json", "INFO"))).contains("\"message\":\"node n1 tainted\"", "\"nodeclaim\":\"c1\"", "boom")
        .doesNotContain("not shown", "quiet");
    for (String format : new String[] {"json", "text"}) {
      for (String level : new String[] {"INFO", "warn"}) {
        assertThat(lines(() -> programmatic(format, level))).as(format + " at " + level).isEqualTo(lines(() -> fromXml(format, level)));
      }
    }
  }

  private static LoggerContext fromXml(String format, String level) throws Exception {
    return withProperties(format, level, () -> {
      LoggerContext context = new LoggerContext();
      context.setMDCAdapter(MDC.getMDCAdapter());
      JoranConfigurator joran = new JoranConfigurator();
      joran.setContext(context);
      joran.doConfigure(ProgrammaticLogConfig.class.getResource("/logback.xml"));
      return context;
    });
  }

  private static LoggerContext programmatic(String format, String level) throws Exception {
    return withProperties(format, level, () -> {
      LoggerContext context = new LoggerContext();
      context.setMDCAdapter(MDC.getMDCAdapter());
      ProgrammaticLogConfig.apply(context);
      return context;
    });
  }

  private interface Setup {
    LoggerContext run() throws Exception;
  }

  private static LoggerContext withProperties(String format, String level, Setup setup) throws Exception {
    String oldFormat = System.getProperty("dovetail.log.format");
    String oldLevel = System.getProperty("dovetail.log.level");
    System.setProperty("dovetail.log.format", format);
    System.setProperty("dovetail.log.level", level);
    try {
      return setup.run();
    } finally {
      restore("dovetail.log.format", oldFormat);
      restore("dovetail.log.level", oldLevel);
    }
  }

  private static void restore(String key, String value) {
    if (value == null) {
      System.clearProperty(key);
    } else {
      System.setProperty(key, value);
    }
  }

  /** What a few log calls print, with the time stamps taken out (System.out replaced first: the appender may hold on to it). */
  private static String lines(Setup configured) throws Exception {
    PrintStream out = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    LoggerContext context = null;
    try {
      context = configured.run();
      Logger log = context.getLogger("dev.dovetail.interruption.Agent");
      log.debug("not shown at INFO");
      log.info("node {} tainted", "n1");
      MDC.put("nodeclaim", "c1");
      try {
        IllegalStateException boom = new IllegalStateException("boom");
        boom.setStackTrace(new StackTraceElement[] {new StackTraceElement("dev.dovetail.X", "m", "X.java", 1)});
        log.warn("drain round failed", boom);
      } finally {
        MDC.remove("nodeclaim");
      }
      context.getLogger("io.netty.Something").info("quiet");
    } finally {
      System.setOut(out);
      if (context != null) {
        context.stop();
      }
    }
    return captured.toString(StandardCharsets.UTF_8).replaceAll("\"time\":\"[^\"]+\"", "\"time\":\"T\"")
        .replaceAll("(?m)^\\d\\d:\\d\\d:\\d\\d\\.\\d\\d\\d ", "T ");
  }
}
