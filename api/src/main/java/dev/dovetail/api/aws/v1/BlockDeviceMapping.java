package dev.dovetail.api.aws.v1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** A volume attached to instances of the node class. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BlockDeviceMapping(
    @JsonPropertyDescription("Device name, for example /dev/xvda.")
    String deviceName,
    @JsonPropertyDescription("EBS settings of the volume.")
    BlockDevice ebs,
    @JsonPropertyDescription("Marks the root volume; ephemeral-storage capacity is computed from it. At most one mapping may set it.")
    Boolean rootVolume) {
}
