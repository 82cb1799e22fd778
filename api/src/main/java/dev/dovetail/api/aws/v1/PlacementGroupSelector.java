package dev.dovetail.api.aws.v1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** The placement group instances launch into, by name or id. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "has(self.name) || has(self.id)", message = "expected at least one, got none, ['name', 'id']")
@ValidationRule(value = "!(has(self.name) && has(self.id))", message = "'name' and 'id' are mutually exclusive")
public record PlacementGroupSelector(
    @JsonPropertyDescription("Placement group name.")
    @Size(min = 1)
    String name,
    @JsonPropertyDescription("Placement group id (pg-...).")
    @Pattern("^pg-[0-9a-z]+$")
    String id) {
}
