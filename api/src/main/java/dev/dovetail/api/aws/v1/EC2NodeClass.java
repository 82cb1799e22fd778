package dev.dovetail.api.aws.v1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import dev.dovetail.api.schema.Printers;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/** An EC2NodeClass ({@code karpenter.k8s.aws/v1}): EC2 launch settings for NodePools. */
@Group(EC2NodeClass.GROUP)
@Version("v1")
@Kind("EC2NodeClass")
@Plural("ec2nodeclasses")
@Singular("ec2nodeclass")
@ShortNames({"ec2nc", "ec2ncs"})
@Categories("karpenter")
@JsonClassDescription("EC2NodeClass is the Schema for the EC2NodeClass API: the AMIs, subnets, security groups, IAM role and instance settings nodes launch with.")
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(name = "Role", jsonPath = ".spec.role", priority = 1, type = AdditionalPrinterColumn.Type.STRING)
@Printers({"Ready", "Age", "Role"})
public class EC2NodeClass extends CustomResource<EC2NodeClassSpec, EC2NodeClassStatus> {
  public static final String GROUP = "karpenter.k8s.aws";

  public EC2NodeClass() {
  }
}
