package dev.dovetail.api.config.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;

/**
 * Cluster-wide orchestrator settings: the Harness REST body ({@code ClusterOrchConfig}) with
 * snake_case keys turned into lowerCamelCase. Without an API key or SaaS connection, this object is
 * where the settings live.
 */
@JsonClassDescription("ClusterOrchestratorConfigSpec holds the cluster preferences, spot preferences and replacement schedules of the orchestrator.")
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ClusterOrchestratorConfigSpec(
    @JsonPropertyDescription("Pause every orchestrator action (provisioning still follows NodePools; no evictions, consolidation or fallback moves are started).")
    @Default("false")
    Boolean disabled,
    @JsonPropertyDescription("Use unused Reserved Instance and Savings Plan commitments before spot capacity.")
    CommitmentIntegration commitmentIntegration,
    @JsonPropertyDescription("Move replicas that fell back to on-demand back to spot once spot capacity returns.")
    ReverseFallback reverseFallback,
    @JsonPropertyDescription("Cluster-wide defaults for the NodePools the orchestrator manages.")
    ClusterPreferences clusterPreferences,
    @JsonPropertyDescription("Node lifetime, bin-packing and node-disruption settings applied to managed NodePools.")
    Consolidation consolidation,
    @JsonPropertyDescription("Time windows in which disruptive operations may start.")
    ReplacementWindow replacementWindow) {
}
