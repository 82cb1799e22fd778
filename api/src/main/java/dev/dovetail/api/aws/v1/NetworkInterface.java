package dev.dovetail.api.aws.v1;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.dovetail.api.schema.Format;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;

/** A network interface of launched instances (EFA setups). */
public record NetworkInterface(
    @JsonPropertyDescription("Network card the interface is on.")
    @Required @Min(0) @Format("int32")
    Integer networkCardIndex,
    @JsonPropertyDescription("Device index of the interface on its card.")
    @Required @Min(0) @Format("int32")
    Integer deviceIndex,
    @JsonPropertyDescription("interface (ENA, optionally with EFA) or efa-only.")
    @Required
    InterfaceType interfaceType) {

  /** Interface types. */
  public enum InterfaceType {
    @JsonProperty("interface") INTERFACE,
    @JsonProperty("efa-only") EFA_ONLY
  }
}
