package dev.dovetail.api.aws.v1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.Map;

/** Selects AMIs by alias, id, name, owner, tags or SSM parameter. Terms are ORed. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AmiSelectorTerm(
    @JsonPropertyDescription("An EKS-optimized AMI family and version, family@version: al2, al2023, bottlerocket, windows2019, windows2022 or windows2025, at a version or 'latest' (Windows: latest only). Must be the only term.")
    @Size(max = 30)
    @ValidationRule(value = "self.matches('^[a-zA-Z0-9]+@.+$')", message = "'alias' is improperly formatted, must match the format 'family@version'")
    @ValidationRule(value = "self.split('@')[0] in ['al2','al2023','bottlerocket','windows2019','windows2022','windows2025']",
        message = "family is not supported, must be one of the following: 'al2', 'al2023', 'bottlerocket', 'windows2019', 'windows2022', 'windows2025'")
    @ValidationRule(value = "self.split('@')[0] in ['windows2019','windows2022','windows2025'] ? self.split('@')[1] == 'latest' : true",
        message = "windows families may only specify version 'latest'")
    String alias,
    @JsonPropertyDescription(SelectorTerms.TAGS_DESCRIPTION)
    @Size(max = 20)
    @ValidationRule(value = SelectorTerms.TAGS_NOT_EMPTY_RULE, message = SelectorTerms.TAGS_NOT_EMPTY_MESSAGE)
    Map<String, String> tags,
    @JsonPropertyDescription("The AMI id (ami-...); cannot be combined with other fields.")
    @Pattern("ami-[0-9a-z]+")
    String id,
    @JsonPropertyDescription("The AMI name; wildcards are allowed.")
    String name,
    @JsonPropertyDescription("The AMI owner: an account id, or self, amazon, aws-marketplace.")
    String owner,
    @JsonPropertyDescription("An SSM parameter whose value is the AMI id.")
    String ssmParameter) {
}
