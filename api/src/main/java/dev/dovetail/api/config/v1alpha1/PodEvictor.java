package dev.dovetail.api.config.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/** Pod eviction for bin-packing, and the robust distribution mode that comes with it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PodEvictor(
    @JsonPropertyDescription("Evict pods from under-used nodes (and pods violating their distribution rule) so the nodes can be removed.")
    @Default("false")
    Boolean enabled,
    @JsonPropertyDescription("Also evict pods of single-replica workloads and standalone pods (brief downtime).")
    @Default("false")
    Boolean evictSingleReplicas,
    @JsonPropertyDescription("A node is under-used when its pods request less than this percentage of its allocatable CPU (and memory below minimumMemory).")
    @Default("30") @Min(0) @Max(100)
    Integer minimumCpu,
    @JsonPropertyDescription("A node is under-used when its pods request less than this percentage of its allocatable memory (and CPU below minimumCpu).")
    @Default("30") @Min(0) @Max(100)
    Integer minimumMemory,
    @JsonPropertyDescription("Most evictions per pass.")
    @Default("20") @Min(1)
    Integer maxEvictions) {
}
