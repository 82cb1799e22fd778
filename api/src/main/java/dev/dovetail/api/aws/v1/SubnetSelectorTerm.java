package dev.dovetail.api.aws.v1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.Map;

/** Selects subnets by tags or by id. Terms are ORed. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SubnetSelectorTerm(
    @JsonPropertyDescription(SelectorTerms.TAGS_DESCRIPTION)
    @Size(max = 20)
    @ValidationRule(value = SelectorTerms.TAGS_NOT_EMPTY_RULE, message = SelectorTerms.TAGS_NOT_EMPTY_MESSAGE)
    Map<String, String> tags,
    @JsonPropertyDescription("The subnet id (subnet-...); cannot be combined with tags.")
    @Pattern("subnet-[0-9a-z]+")
    String id) {
}
