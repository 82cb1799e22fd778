package dev.dovetail.api.aws.v1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** CPU options of launched instances. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CpuOptions(
    @JsonPropertyDescription("Nested virtualization: enabled or disabled.")
    NestedVirtualization nestedVirtualization) {

  /** enabled or disabled. */
  public enum NestedVirtualization {
    @JsonProperty("enabled") ENABLED,
    @JsonProperty("disabled") DISABLED
  }
}
