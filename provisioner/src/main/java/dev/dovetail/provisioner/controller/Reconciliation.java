package dev.dovetail.provisioner.controller;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * What one reconcile is about: the controller, the object's kind and name, an id of its own and the
 * further objects it concerns (the NodePool and Node of a NodeClaim, say). A reconcile hops threads (cloud
 * calls complete on the SDK's threads, retries on a timer), so its context is passed along explicitly and
 * put on every log line as fields rather than kept in a thread-local MDC, which would not follow it. The
 * fields are Karpenter's (controller-runtime's): {@code "controller":"nodeclaim.lifecycle"}, the object
 * under its kind ({@code "NodeClaim":{"name":"default-abcde"}}, see {@link ObjectRef}), a UUID
 * {@code "reconcileID"}, then the further objects ({@code "NodePool"}, {@code "Node"}, {@code "Pod"}).
 * A singleton controller's pass (the provisioner, disruption) reconciles no object of its own.
 */
public record Reconciliation(String controller, String kind, String name, String id, Map<String, Object> fields) {
  public Reconciliation {
    fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
  }

  /** A new reconcile of {@code kind} {@code name} by {@code controller}, with an id of its own. */
  public static Reconciliation of(String controller, String kind, String name) {
    return new Reconciliation(controller, kind, name, newId(), Map.of());
  }

  /** A new pass of the singleton controller {@code controller}, with an id of its own. */
  public static Reconciliation singleton(String controller) {
    return new Reconciliation(controller, null, null, newId(), Map.of());
  }

  /** A random (version 4) UUID, as controller-runtime's reconcileID; ThreadLocalRandom, as it need not be unguessable. */
  private static String newId() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long high = (random.nextLong() & ~0xf000L) | 0x4000L;
    long low = (random.nextLong() & ~(0xcL << 60)) | (0x8L << 60);
    return new UUID(high, low).toString();
  }

  /**
   * The same reconcile with a further cluster-scoped object on its log lines, under its kind as Karpenter
   * names it ({@code "NodePool":{"name":"default"}}); a blank name is left out.
   */
  public Reconciliation with(String kind, String name) {
    return with(kind, null, name);
  }

  /** {@link #with(String, String)} for a namespaced object ({@code "Pod":{"name":"web-1","namespace":"shop"}}). */
  public Reconciliation with(String kind, String namespace, String name) {
    if (name == null || name.isEmpty()) {
      return this;
    }
    Map<String, Object> more = new LinkedHashMap<>(fields);
    more.put(kind, new ObjectRef(namespace, name));
    return new Reconciliation(controller, this.kind, this.name, id, more);
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
    event.addKeyValue("controller", controller);
    if (kind != null) {
      event.addKeyValue(kind, ObjectRef.of(name));
    }
    event.addKeyValue("reconcileID", id);
    fields.forEach(event::addKeyValue);
    return event;
  }

  @Override
  public String toString() {
    return controller + "#" + id + (kind == null ? "" : " " + kind + "(" + name + ")");
  }
}
