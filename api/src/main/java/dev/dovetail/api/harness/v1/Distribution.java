package dev.dovetail.api.harness.v1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;

/** A spot/on-demand split in percent; the two add up to 100. */
public record Distribution(
    @JsonPropertyDescription("Percentage of each workload's replicas (beyond the base on-demand capacity) to run on spot capacity, 0-100.")
    @Required @Min(0) @Max(100)
    Integer spot,
    @JsonPropertyDescription("Percentage of each workload's replicas (beyond the base on-demand capacity) to run on on-demand capacity, 0-100. Rounding favours on-demand.")
    @Required @Min(0) @Max(100)
    Integer ondemand) {
}
