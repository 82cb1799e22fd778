package dev.dovetail.api.karpenter.v1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.dovetail.api.schema.Format;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** A node taint, as in a Node's {@code spec.taints}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Taint(
    @JsonPropertyDescription("The taint key to be applied to a node.")
    @Required @Size(min = 1) @Pattern(WellKnownLabels.QUALIFIED_NAME_PATTERN)
    String key,
    @JsonPropertyDescription("The taint value corresponding to the taint key.")
    @Pattern(WellKnownLabels.QUALIFIED_NAME_PATTERN)
    String value,
    @JsonPropertyDescription("The effect of the taint on pods that do not tolerate it: NoSchedule, PreferNoSchedule or NoExecute.")
    @Required
    Effect effect,
    @JsonPropertyDescription("When the taint was added; only written for NoExecute taints.")
    @Format("date-time")
    String timeAdded) {

  /** Taint effects. */
  public enum Effect { NoSchedule, PreferNoSchedule, NoExecute }

  public static Taint of(String key, String value, Effect effect) {
    return new Taint(key, value, effect, null);
  }
}
