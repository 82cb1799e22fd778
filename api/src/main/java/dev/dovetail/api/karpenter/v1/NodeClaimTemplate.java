package dev.dovetail.api.karpenter.v1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;

/** What every NodeClaim a NodePool creates starts from. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record NodeClaimTemplate(
    @JsonPropertyDescription("Labels and annotations copied to every NodeClaim and Node of the pool.")
    TemplateMetadata metadata,
    @JsonPropertyDescription("Requirements, taints and node class of the NodeClaims the pool creates.")
    @Required
    NodeClaimTemplateSpec spec) {
}
