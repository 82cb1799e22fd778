package dev.dovetail.api.karpenter.v1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

/** Points a NodePool or NodeClaim at the cloud-specific node class that holds its launch settings. */
public record NodeClassReference(
    @JsonPropertyDescription("API group of the node class, for example karpenter.k8s.aws.")
    @Required @Pattern("^[^/]*$")
    @ValidationRule(value = "self != ''", message = "group may not be empty")
    String group,
    @JsonPropertyDescription("Kind of the node class, for example EC2NodeClass.")
    @Required
    @ValidationRule(value = "self != ''", message = "kind may not be empty")
    String kind,
    @JsonPropertyDescription("Name of the node class.")
    @Required
    @ValidationRule(value = "self != ''", message = "name may not be empty")
    String name) {

  public static NodeClassReference ec2NodeClass(String name) {
    return new NodeClassReference("karpenter.k8s.aws", "EC2NodeClass", name);
  }
}
