package dev.dovetail.api.karpenter.v1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import dev.dovetail.api.schema.Printers;
import dev.dovetail.api.schema.Scale;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/** A Karpenter NodePool ({@code karpenter.sh/v1}): a template and limits for a group of nodes. */
@Group(NodePool.GROUP)
@Version(NodePool.VERSION)
@Kind("NodePool")
@Plural("nodepools")
@Singular("nodepool")
@Categories("karpenter")
@JsonClassDescription("NodePool is the Schema for the NodePools API: it describes a pool of nodes Karpenter-compatible provisioners may launch, and the limits and disruption rules that apply to them.")
@AdditionalPrinterColumn(name = "NodeClass", jsonPath = ".spec.template.spec.nodeClassRef.name", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Nodes", jsonPath = ".status.nodes", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(name = "Weight", jsonPath = ".spec.weight", priority = 1, type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "CPU", jsonPath = ".status.resources.cpu", priority = 1, type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Memory", jsonPath = ".status.resources.memory", priority = 1, type = AdditionalPrinterColumn.Type.STRING)
// Dovetail's, after Karpenter's: the limits in force, the ClusterOrchestratorConfig's defaults included.
@AdditionalPrinterColumn(name = "CPU-Limit", jsonPath = ".spec.limits.cpu", priority = 1, type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Memory-Limit", jsonPath = ".spec.limits.memory", priority = 1, type = AdditionalPrinterColumn.Type.STRING)
@Printers({"NodeClass", "Nodes", "Ready", "Age", "Weight", "CPU", "Memory", "CPU-Limit", "Memory-Limit"})
@Scale(specReplicasPath = ".spec.replicas", statusReplicasPath = ".status.nodes")
public class NodePool extends CustomResource<NodePoolSpec, NodePoolStatus> {
  public static final String GROUP = "karpenter.sh";
  public static final String VERSION = "v1";

  public NodePool() {
  }
}
