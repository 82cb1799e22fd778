package dev.dovetail.api.aws.v1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.dovetail.api.schema.Format;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/**
 * Instance Metadata Service exposure of launched instances. The defaults require IMDSv2 tokens and a
 * hop limit of 1, so pods without host networking cannot read the instance's credentials.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record MetadataOptions(
    @JsonPropertyDescription("Whether the metadata service is reachable: enabled or disabled.")
    @Default("enabled")
    Toggle httpEndpoint,
    @JsonPropertyDescription("Whether the metadata service has an IPv6 endpoint: enabled or disabled.")
    @JsonProperty("httpProtocolIPv6") @Default("disabled")
    Toggle httpProtocolIPv6,
    @JsonPropertyDescription("Network hops a metadata response may travel (1-64); 2 lets pods reach IMDS through the node.")
    @Default("1") @Min(1) @Max(64) @Format("int64")
    Long httpPutResponseHopLimit,
    @JsonPropertyDescription("required: only IMDSv2 session tokens; optional: IMDSv1 is allowed too.")
    @Default("required")
    Tokens httpTokens) {

  /** enabled or disabled. */
  public enum Toggle {
    @JsonProperty("enabled") ENABLED,
    @JsonProperty("disabled") DISABLED
  }

  /** IMDS token policy. */
  public enum Tokens {
    @JsonProperty("required") REQUIRED,
    @JsonProperty("optional") OPTIONAL
  }
}
