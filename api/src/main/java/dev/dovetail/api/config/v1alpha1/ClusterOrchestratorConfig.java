package dev.dovetail.api.config.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import dev.dovetail.api.schema.Printers;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/** Dovetail's cluster-wide settings ({@code dovetail.dev/v1alpha1}); a singleton named {@code default}. */
@Group("dovetail.dev")
@Version("v1alpha1")
@Kind("ClusterOrchestratorConfig")
@Plural("clusterorchestratorconfigs")
@Singular("clusterorchestratorconfig")
@JsonClassDescription("ClusterOrchestratorConfig holds Dovetail's cluster-wide settings: commitments, node TTL, capacity limits, bin-packing, node disruption, reverse fallback and replacement windows. There is one, named default.")
@ValidationRule(value = "self.metadata.name == 'default'", message = "ClusterOrchestratorConfig is a singleton: its name must be 'default'")
@AdditionalPrinterColumn(name = "Disabled", jsonPath = ".spec.disabled", type = AdditionalPrinterColumn.Type.BOOLEAN)
@AdditionalPrinterColumn(name = "Deletion-Criteria", jsonPath = ".spec.consolidation.policy", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Deletion-Delay", jsonPath = ".spec.consolidation.after", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Window", jsonPath = ".spec.replacementWindow.replacementWindowType", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(name = "Node-TTL", jsonPath = ".spec.consolidation.nodeExpiry", priority = 1, type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Spot-To-Spot", jsonPath = ".spec.consolidation.enableSpotToSpot", priority = 1, type = AdditionalPrinterColumn.Type.BOOLEAN)
@Printers({"Disabled", "Deletion-Criteria", "Deletion-Delay", "Window", "Ready", "Age", "Node-TTL", "Spot-To-Spot"})
public class ClusterOrchestratorConfig extends CustomResource<ClusterOrchestratorConfigSpec, ClusterOrchestratorConfigStatus> {
  /** The only name the configuration may have. */
  public static final String NAME = "default";

  public ClusterOrchestratorConfig() {
  }
}
