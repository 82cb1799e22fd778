package dev.dovetail.api.config.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** Reserved Instances of one instance type: regional, or zonal when a zone is named. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ReservedInstance(
    @JsonPropertyDescription("The instance type the reservation covers, such as m5.xlarge.")
    @Required
    @Pattern("^[a-z0-9][a-z0-9-]*[.][a-z0-9-]+$")
    String instanceType,
    @JsonPropertyDescription("The Availability Zone of a zonal reservation; regional when unset.")
    String availabilityZone,
    @JsonPropertyDescription("How many instances the reservation covers.")
    @Required
    @Min(1)
    Integer count) {

  /** Whether the reservation covers an instance of this type in this zone (any zone of a regional one). */
  public boolean covers(String type, String zone) {
    return instanceType.equals(type) && (availabilityZone == null || availabilityZone.equals(zone));
  }
}
