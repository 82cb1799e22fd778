package dev.dovetail.api.common;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.dovetail.api.schema.Format;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Objects;

/**
 * One observation of an object's state, in the shape of Kubernetes' {@code metav1.Condition} (the
 * shape Karpenter's status conditions use).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Condition(
    @JsonPropertyDescription("Type of the condition in CamelCase, for example Ready, Launched or Initialized.")
    @Required @Size(max = 316)
    @Pattern("^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$")
    String type,
    @JsonPropertyDescription("Status of the condition: True, False or Unknown.")
    @Required
    Status status,
    @JsonPropertyDescription("The .metadata.generation the condition was set for; older than the object's generation means stale.")
    @Min(0) @Format("int64")
    Long observedGeneration,
    @JsonPropertyDescription("When the condition last changed from one status to another.")
    @Required @Format("date-time")
    String lastTransitionTime,
    @JsonPropertyDescription("Programmatic identifier in CamelCase for the last transition; empty when there is nothing to say.")
    @Size(max = 1024) @Pattern("^([A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?|)$")
    String reason,
    @JsonPropertyDescription("Human-readable details of the last transition.")
    @Size(max = 32768)
    String message) {

  /** Allowed condition statuses. */
  public enum Status {
    True, False, Unknown;

    public static Status of(boolean value) {
      return value ? True : False;
    }
  }

  public Condition {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(status, "status");
  }

  public static Condition of(String type, Status status, String reason, String message, long generation, Instant now) {
    return new Condition(type, status, generation,
        now.truncatedTo(ChronoUnit.SECONDS).toString(), reason == null ? "" : reason, message == null ? "" : message);
  }

  @JsonIgnore
  public boolean isTrue() {
    return status == Status.True;
  }
}
