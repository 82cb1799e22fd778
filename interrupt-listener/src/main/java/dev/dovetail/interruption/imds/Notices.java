package dev.dovetail.interruption.imds;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The notices IMDS publishes, parsed strictly enough to act on and leniently about what does not matter:
 * a body that cannot be read is an {@link IllegalArgumentException} naming the path, never a crash.
 */
public final class Notices {
  /** {@code spot/instance-action}: {@code stop}, {@code terminate} or {@code hibernate} at {@code time}. */
  public record SpotInterruption(String action, Instant time) {
  }

  /** {@code events/recommendations/rebalance}: an elevated risk of interruption, noticed at {@code noticeTime}. */
  public record Rebalance(Instant noticeTime) {
  }

  /** One entry of {@code events/maintenance/scheduled}. */
  public record ScheduledEvent(String code, String state, String eventId, String description, Instant notBefore, Optional<Instant> notAfter) {
    /** Events that still have to happen (AWS marks finished ones {@code completed} or {@code canceled}). */
    public boolean pending() {
      return !"completed".equalsIgnoreCase(state) && !"canceled".equalsIgnoreCase(state);
    }
  }

  static final String SPOT_PATH = "spot/instance-action";
  static final String REBALANCE_PATH = "events/recommendations/rebalance";
  static final String SCHEDULED_PATH = "events/maintenance/scheduled";
  static final String LIFE_CYCLE_PATH = "instance-life-cycle";

  private static final ObjectMapper JSON = new ObjectMapper();
  /** Scheduled events use this form, e.g. {@code 21 Jan 2019 09:00:43 GMT}. */
  private static final DateTimeFormatter EVENT_TIME = DateTimeFormatter.ofPattern("d MMM yyyy HH:mm:ss z", Locale.ROOT);

  private Notices() {
  }

  public static SpotInterruption spot(String body) {
    JsonNode n = object(body, SPOT_PATH);
    return new SpotInterruption(text(n, "action", SPOT_PATH), instant(text(n, "time", SPOT_PATH), SPOT_PATH));
  }

  public static Rebalance rebalance(String body) {
    JsonNode n = object(body, REBALANCE_PATH);
    return new Rebalance(instant(text(n, "noticeTime", REBALANCE_PATH), REBALANCE_PATH));
  }

  public static List<ScheduledEvent> scheduled(String body) {
    JsonNode list = parse(body, SCHEDULED_PATH);
    if (!list.isArray()) {
      throw new IllegalArgumentException(SCHEDULED_PATH + " is not a JSON list: " + abbreviate(body));
    }
    List<ScheduledEvent> out = new ArrayList<>();
    for (JsonNode e : list) {
      String notAfter = e.path("NotAfter").asText("");
      out.add(new ScheduledEvent(text(e, "Code", SCHEDULED_PATH), e.path("State").asText("active"), e.path("EventId").asText(""),
          e.path("Description").asText(""), eventTime(text(e, "NotBefore", SCHEDULED_PATH)),
          notAfter.isBlank() ? Optional.empty() : Optional.of(eventTime(notAfter))));
    }
    return out;
  }

  private static JsonNode object(String body, String path) {
    JsonNode n = parse(body, path);
    if (!n.isObject()) {
      throw new IllegalArgumentException(path + " is not a JSON object: " + abbreviate(body));
    }
    return n;
  }

  private static JsonNode parse(String body, String path) {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      throw new IllegalArgumentException(path + " is not JSON: " + abbreviate(body));
    }
  }

  private static String text(JsonNode n, String field, String path) {
    JsonNode v = n.get(field);
    if (v == null || !v.isTextual() || v.asText().isBlank()) {
      throw new IllegalArgumentException(path + " has no " + field);
    }
    return v.asText();
  }

  private static Instant instant(String text, String path) {
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(path + ": '" + text + "' is not an RFC 3339 time");
    }
  }

  private static Instant eventTime(String text) {
    try {
      return ZonedDateTime.parse(text.trim(), EVENT_TIME).toInstant();
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(SCHEDULED_PATH + ": '" + text + "' is not a time like '21 Jan 2019 09:00:43 GMT'");
    }
  }

  private static String abbreviate(String body) {
    String s = body == null ? "" : body.strip();
    return s.length() > 120 ? s.substring(0, 120) + "..." : s;
  }
}
