package dev.dovetail.api.harness.v1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import dev.dovetail.api.schema.Printers;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A Harness Cluster Orchestrator WorkloadDistributionRule ({@code ccm.harness.io/v1}), served in the
 * documented shape so existing rules apply unchanged.
 */
@Group("ccm.harness.io")
@Version("v1")
@Kind("WorkloadDistributionRule")
@Plural("workloaddistributionrules")
@Singular("workloaddistributionrule")
@JsonClassDescription("WorkloadDistributionRule sets the spot/on-demand split of workload replicas for one namespace, or for the whole cluster when spec.namespace is unset. A namespace rule overrides the cluster-level rule.")
@AdditionalPrinterColumn(name = "Namespace", jsonPath = ".spec.namespace", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Spot", jsonPath = ".spec.distribution.spot", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "On-Demand", jsonPath = ".spec.distribution.ondemand", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Selector", jsonPath = ".spec.selector", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Strategy", jsonPath = ".spec.strategy", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(name = "Base-On-Demand", jsonPath = ".spec.baseOnDemandCapacity", priority = 1, type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Workloads", jsonPath = ".status.workloads", priority = 1, type = AdditionalPrinterColumn.Type.INTEGER)
@Printers({"Namespace", "Spot", "On-Demand", "Selector", "Strategy", "Ready", "Age", "Base-On-Demand", "Workloads"})
public class WorkloadDistributionRule extends CustomResource<WorkloadDistributionRuleSpec, WorkloadDistributionRuleStatus> {
  public WorkloadDistributionRule() {
  }
}
