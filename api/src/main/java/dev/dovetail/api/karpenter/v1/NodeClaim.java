package dev.dovetail.api.karpenter.v1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import dev.dovetail.api.schema.Printers;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/** A Karpenter NodeClaim ({@code karpenter.sh/v1}): a request for exactly one node. */
@Group(NodePool.GROUP)
@Version(NodePool.VERSION)
@Kind("NodeClaim")
@Plural("nodeclaims")
@Singular("nodeclaim")
@Categories("karpenter")
@JsonClassDescription("NodeClaim is the Schema for the NodeClaims API: a request for one node, its launch, registration and initialization.")
@AdditionalPrinterColumn(name = "Type", jsonPath = ".metadata.labels.node\\.kubernetes\\.io/instance-type", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Capacity", jsonPath = ".metadata.labels.karpenter\\.sh/capacity-type", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Zone", jsonPath = ".metadata.labels.topology\\.kubernetes\\.io/zone", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Node", jsonPath = ".status.nodeName", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(name = "ImageID", jsonPath = ".status.imageID", priority = 1, type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "ID", jsonPath = ".status.providerID", priority = 1, type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "NodePool", jsonPath = ".metadata.labels.karpenter\\.sh/nodepool", priority = 1, type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "NodeClass", jsonPath = ".spec.nodeClassRef.name", priority = 1, type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Drifted", jsonPath = ".status.conditions[?(@.type==\"Drifted\")].status", priority = 1, type = AdditionalPrinterColumn.Type.STRING)
@Printers({"Type", "Capacity", "Zone", "Node", "Ready", "Age", "ImageID", "ID", "NodePool", "NodeClass", "Drifted"})
public class NodeClaim extends CustomResource<NodeClaimSpec, NodeClaimStatus> {
  public NodeClaim() {
  }
}
