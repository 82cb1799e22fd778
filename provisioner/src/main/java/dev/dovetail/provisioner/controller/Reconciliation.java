package dev.dovetail.provisioner.controller;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * What one reconcile is about: the controller, the object's kind and name, an id of its own and any
 * further fields (the NodePool of a NodeClaim, say). A reconcile hops threads (cloud calls complete on
 * the SDK's threads, retries on a timer), so its context is passed along explicitly and put on every log
 * line as fields ({@code controller}, the kind in lower case, {@code reconcileID}, ...) rather than kept in
 * a thread-local MDC, which would not follow it.
 */
public record Reconciliation(String controller, String kind, String name, String id, Map<String, String> fields) {
  private static final AtomicLong IDS = new AtomicLong();

  public Reconciliation {
    fields = Map.copyOf(fields);
  }

  /** A new reconcile of {@code kind} {@code name} by {@code controller}, with the next id. */
  public static Reconciliation of(String controller, String kind, String name) {
    return new Reconciliation(controller, kind, name, Long.toString(IDS.incrementAndGet(), 36), Map.of());
  }

  /** The same reconcile with one more field on its log lines (a blank value is left out). */
  public Reconciliation with(String key, String value) {
    if (value == null || value.isEmpty()) {
      return this;
    }
    Map<String, String> more = new LinkedHashMap<>(fields);
    more.put(key, value);
    return new Reconciliation(controller, kind, name, id, more);
  }

  public LoggingEventBuilder atDebug(Logger log) {
    return fields(log.atDebug());
  }

  public LoggingEventBuilder atInfo(Logger log) {
    return fields(log.atInfo());
  }

  public LoggingEventBuilder atWarn(Logger log) {
    return fields(log.atWarn());
  }

  public LoggingEventBuilder atError(Logger log) {
    return fields(log.atError());
  }

  private LoggingEventBuilder fields(LoggingEventBuilder event) {
    event.addKeyValue("controller", controller).addKeyValue(kind.toLowerCase(Locale.ROOT), name).addKeyValue("reconcileID", id);
    fields.forEach(event::addKeyValue);
    return event;
  }

  @Override
  public String toString() {
    return controller + "#" + id + " " + kind + "(" + name + ")";
  }
}
