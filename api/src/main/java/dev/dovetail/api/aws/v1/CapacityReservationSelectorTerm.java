package dev.dovetail.api.aws.v1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.Map;

/** Selects on-demand capacity reservations the pool may launch into. Terms are ORed. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CapacityReservationSelectorTerm(
    @JsonPropertyDescription(SelectorTerms.TAGS_DESCRIPTION)
    @Size(max = 20)
    @ValidationRule(value = SelectorTerms.TAGS_NOT_EMPTY_RULE, message = SelectorTerms.TAGS_NOT_EMPTY_MESSAGE)
    Map<String, String> tags,
    @JsonPropertyDescription("The capacity reservation id (cr-...); cannot be combined with other fields.")
    @Pattern("^cr-[0-9a-z]+$")
    String id,
    @JsonPropertyDescription("The 12-digit AWS account that owns the reservation.")
    @JsonProperty("ownerID") @Pattern("^[0-9]{12}$")
    String ownerID,
    @JsonPropertyDescription("Reservations of this kind only: open or targeted.")
    InstanceMatchCriteria instanceMatchCriteria) {

  /** How instances match a capacity reservation. */
  public enum InstanceMatchCriteria {
    @JsonProperty("open") OPEN,
    @JsonProperty("targeted") TARGETED
  }
}
