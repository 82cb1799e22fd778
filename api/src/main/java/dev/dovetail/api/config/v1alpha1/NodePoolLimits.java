package dev.dovetail.api.config.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.dovetail.api.karpenter.v1.Quantities;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.kubernetes.api.model.Quantity;

/** Most CPU and memory a NodePool may scale to. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record NodePoolLimits(
    @JsonPropertyDescription("Maximum vCPUs (cores), such as 1000.")
    @Pattern(Quantities.PATTERN)
    Quantity cpu,
    @JsonPropertyDescription("Maximum memory, such as 4000Gi.")
    @Pattern(Quantities.PATTERN)
    Quantity memory) {
}
