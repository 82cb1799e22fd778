package dev.dovetail.api.aws.v1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.dovetail.api.schema.Format;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.ValidationRule;

/** Idle timeouts of tracked connections on the primary network interface. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "has(self.tcpEstablishedTimeout) || has(self.udpStreamTimeout) || has(self.udpTimeout)",
    message = "at least one of tcpEstablishedTimeout, udpStreamTimeout, or udpTimeout must be set")
public record ConnectionTracking(
    @JsonPropertyDescription("Seconds before an idle established TCP connection is forgotten (60-432000).")
    @Min(60) @Max(432000) @Format("int32")
    Integer tcpEstablishedTimeout,
    @JsonPropertyDescription("Seconds before an idle bidirectional UDP flow is forgotten (60-180).")
    @Min(60) @Max(180) @Format("int32")
    Integer udpStreamTimeout,
    @JsonPropertyDescription("Seconds before an idle one-way UDP flow is forgotten (30-60).")
    @Min(30) @Max(60) @Format("int32")
    Integer udpTimeout) {
}
