package dev.dovetail.api.config.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.dovetail.api.karpenter.v1.Durations;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.ValidationRule;

/** Reverse fallback: on-demand fallback nodes are replaced by spot when spot capacity is back. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!self.enabled || has(self.retryInterval)", message = "reverseFallback.retryInterval is required when reverseFallback is enabled")
public record ReverseFallback(
    @JsonPropertyDescription("Turn reverse fallback on.")
    @Default("false")
    Boolean enabled,
    @JsonPropertyDescription("How often fallback nodes are checked for available spot capacity, such as 6h or 30m.")
    @Pattern(Durations.DURATION_PATTERN)
    String retryInterval) {
}
