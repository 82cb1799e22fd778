package dev.dovetail.api.config.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Cluster preferences. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ClusterPreferences(
    @JsonPropertyDescription("Capacity ceiling copied to every managed NodePool without limits of its own. Unset: twice the allocatable CPU and memory of the cluster's Ready nodes, kept in status and raised as the cluster grows.")
    NodePoolLimits nodepoolLimits) {
}
