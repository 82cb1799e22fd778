package dev.dovetail.provisioner.interruption;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One EventBridge event as it arrives on the interruption queue, reduced to what the provisioner acts
 * on: which instances, what happens to them and when. Parsing never throws: a body that is not an event
 * we act on is a {@link Kind#NO_OP} that says why (it is deleted from the queue like any other).
 *
 * @param kind        what happens; its {@link Kind#messageType()} is Karpenter's {@code message_type} label
 * @param instanceIds the EC2 instances concerned
 * @param eventTime   when EventBridge emitted the event
 * @param effectiveAt when the change takes effect (the spot reclaim two minutes after the warning, the
 *                    start of a scheduled change), else the event time
 * @param detail      the instance action, state or event type code, or why the message is a no-op
 */
public record InterruptionMessage(Kind kind, List<String> instanceIds, Instant eventTime, Instant effectiveAt, String detail) {
  /** The spot warning comes two minutes before the reclaim. */
  public static final Duration SPOT_WARNING = Duration.ofMinutes(2);

  private static final ObjectMapper JSON = new ObjectMapper();
  /** AWS Health writes its times as RFC 1123 ("Sat, 05 Jun 2021 18:00:00 GMT"). */
  private static final DateTimeFormatter HEALTH_TIME = DateTimeFormatter.RFC_1123_DATE_TIME;

  public enum Kind {
    SPOT_INTERRUPTED("spot_interrupted"),
    REBALANCE_RECOMMENDATION("rebalance_recommendation"),
    SCHEDULED_CHANGE("scheduled_change"),
    INSTANCE_STOPPED("instance_stopped"),
    INSTANCE_TERMINATED("instance_terminated"),
    NO_OP("no_op");

    private final String messageType;

    Kind(String messageType) {
      this.messageType = messageType;
    }

    public String messageType() {
      return messageType;
    }
  }

  public InterruptionMessage {
    instanceIds = List.copyOf(instanceIds);
  }

  static InterruptionMessage noOp(String why) {
    return new InterruptionMessage(Kind.NO_OP, List.of(), Instant.EPOCH, Instant.EPOCH, why);
  }

  /** Reads an SQS message body holding an EventBridge event. */
  public static InterruptionMessage parse(String body) {
    JsonNode event;
    try {
      event = JSON.readTree(body == null ? "" : body);
    } catch (JsonProcessingException e) {
      return noOp("not JSON: " + e.getOriginalMessage());
    }
    if (event == null || !event.isObject()) {
      return noOp("not a JSON object");
    }
    String version = text(event, "version");
    String source = text(event, "source");
    String detailType = text(event, "detail-type");
    JsonNode detail = event.get("detail");
    if (!"0".equals(version) || source == null || detailType == null || detail == null || !detail.isObject()) {
      return noOp("not an EventBridge event (version " + version + ", source " + source + ", detail-type " + detailType + ")");
    }
    Instant time = instant(text(event, "time")).orElse(null);
    if (time == null) {
      return noOp("event " + detailType + " without a valid time");
    }
    return switch (source + "|" + detailType) {
      case "aws.ec2|EC2 Spot Instance Interruption Warning" -> instance(detail, detailType)
          .map(id -> new InterruptionMessage(Kind.SPOT_INTERRUPTED, List.of(id), time, time.plus(SPOT_WARNING),
              Optional.ofNullable(text(detail, "instance-action")).orElse("terminate")))
          .orElseGet(() -> noOp(detailType + " without detail.instance-id"));
      case "aws.ec2|EC2 Instance Rebalance Recommendation" -> instance(detail, detailType)
          .map(id -> new InterruptionMessage(Kind.REBALANCE_RECOMMENDATION, List.of(id), time, time, "rebalance"))
          .orElseGet(() -> noOp(detailType + " without detail.instance-id"));
      case "aws.ec2|EC2 Instance State-change Notification" -> stateChange(detail, detailType, time);
      case "aws.health|AWS Health Event" -> health(detail, time);
      default -> noOp("not an interruption event: " + source + " / " + detailType);
    };
  }

  private static InterruptionMessage stateChange(JsonNode detail, String detailType, Instant time) {
    Optional<String> id = instance(detail, detailType);
    String state = text(detail, "state");
    if (id.isEmpty() || state == null) {
      return noOp(detailType + " without detail.instance-id or detail.state");
    }
    // Only the states on the way out matter; pending and running are the instance coming up.
    return switch (state) {
      case "stopping", "stopped" -> new InterruptionMessage(Kind.INSTANCE_STOPPED, List.of(id.get()), time, time, state);
      case "shutting-down", "terminated" -> new InterruptionMessage(Kind.INSTANCE_TERMINATED, List.of(id.get()), time, time, state);
      default -> noOp("instance " + id.get() + " is " + state);
    };
  }

  private static InterruptionMessage health(JsonNode detail, Instant time) {
    String service = text(detail, "service");
    String category = text(detail, "eventTypeCategory");
    if (!"EC2".equals(service) || !"scheduledChange".equals(category)) {
      return noOp("AWS Health event for " + service + " (" + category + "), not an EC2 scheduled change");
    }
    List<String> ids = new ArrayList<>();
    JsonNode entities = detail.get("affectedEntities");
    if (entities != null && entities.isArray()) {
      for (JsonNode e : entities) {
        String value = text(e, "entityValue");
        if (value != null && value.startsWith("i-")) {
          ids.add(value);
        }
      }
    }
    if (ids.isEmpty()) {
      return noOp("EC2 scheduled change without affected instances");
    }
    Instant start = healthTime(text(detail, "startTime")).orElse(time);
    return new InterruptionMessage(Kind.SCHEDULED_CHANGE, ids, time, start, Optional.ofNullable(text(detail, "eventTypeCode")).orElse("scheduledChange"));
  }

  private static Optional<String> instance(JsonNode detail, String detailType) {
    String id = text(detail, "instance-id");
    return id != null && id.startsWith("i-") ? Optional.of(id) : Optional.empty();
  }

  private static String text(JsonNode node, String field) {
    JsonNode value = node == null ? null : node.get(field);
    return value == null || !value.isTextual() ? null : value.asText();
  }

  private static Optional<Instant> instant(String text) {
    if (text == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(Instant.parse(text));
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }

  private static Optional<Instant> healthTime(String text) {
    if (text == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(ZonedDateTime.parse(text, HEALTH_TIME).toInstant());
    } catch (DateTimeParseException e) {
      return instant(text);
    }
  }
}
