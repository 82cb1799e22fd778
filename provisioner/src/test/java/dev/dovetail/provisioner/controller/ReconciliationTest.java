package dev.dovetail.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import net.logstash.logback.encoder.LogstashEncoder;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class ReconciliationTest {
  @Test
  void aReconcilesLogLinesCarryItsContextAsJsonFieldsOnWhateverThreadTheyAreWritten() throws Exception {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    Logger logger = context.getLogger("reconciliation-test");
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.setContext(context);
    appender.start();
    logger.setLevel(Level.INFO);
    logger.addAppender(appender);
    LogstashEncoder encoder = new LogstashEncoder();
    encoder.setContext(context);
    encoder.start();
    try {
      Reconciliation r = Reconciliation.of("nodeclaim.lifecycle", "NodeClaim", "default-abc12").with("NodePool", "default")
          .with("Pod", "shop", "web-1");
      // Written from another thread, as a step continuing after a cloud call would.
      CompletableFuture.runAsync(() -> r.atInfo(logger).log("launched NodeClaim {}", "default-abc12")).get();
      assertThat(appender.list).hasSize(1);
      JsonNode line = new ObjectMapper().readTree(new String(encoder.encode(appender.list.get(0)), StandardCharsets.UTF_8));
      assertThat(line.path("message").asText()).isEqualTo("launched NodeClaim default-abc12");
      assertThat(line.path("controller").asText()).isEqualTo("nodeclaim.lifecycle");
      // Karpenter's shapes: the object under its kind as klog's KRef ({"name":...}, a namespace for a namespaced one), a UUID id.
      assertThat(line.path("NodeClaim").toString()).isEqualTo("{\"name\":\"default-abc12\"}");
      assertThat(line.path("NodePool").toString()).isEqualTo("{\"name\":\"default\"}");
      assertThat(line.path("Pod").toString()).isEqualTo("{\"name\":\"web-1\",\"namespace\":\"shop\"}");
      assertThat(line.path("reconcileID").asText()).isEqualTo(r.id()).matches("\\p{XDigit}{8}-\\p{XDigit}{4}-4\\p{XDigit}{3}-[89ab]\\p{XDigit}{3}-\\p{XDigit}{12}");
    } finally {
      logger.detachAppender(appender);
    }
  }

  @Test
  void eachReconcileHasItsOwnIdAndBlankFieldsAreLeftOut() {
    Reconciliation a = Reconciliation.of("c", "NodePool", "p");
    Reconciliation b = Reconciliation.of("c", "NodePool", "p");
    assertThat(a.id()).isNotEqualTo(b.id());
    assertThat(a.with("NodePool", "").fields()).isEmpty();
    assertThat(a.with("Node", null)).isSameAs(a);
  }
}
