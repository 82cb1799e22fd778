package dev.dovetail.api.karpenter.v1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.dovetail.api.schema.Elements;
import dev.dovetail.api.schema.MapType;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.Map;

/** Labels and annotations of a NodeClaim template. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TemplateMetadata(
    @JsonPropertyDescription("Labels put on every NodeClaim and Node of the pool. Keys under karpenter.sh and karpenter.k8s.aws are reserved except their well-known keys; kubernetes.io/hostname and karpenter.sh/nodepool are set by Karpenter.")
    @Size(max = 100) @MapType("atomic") @Elements(maxLength = 63, pattern = WellKnownLabels.LABEL_VALUE_PATTERN)
    // Karpenter admits any key and only its runtime validation (ValidationSucceeded) refuses one that is
    // not a qualified name; Dovetail refuses such keys at admission, with the same limits.
    @ValidationRule(value = "self.all(x, x.matches(r'" + WellKnownLabels.QUALIFIED_NAME_PATTERN + "'))",
        message = "label keys must be qualified names: an optional DNS-subdomain prefix and '/', then alphanumerics with '-', '_' or '.' inside")
    @ValidationRule(value = "self.all(x, x.find('[^/]*$').size() <= 63 && (!x.contains('/') || x.find('^[^/]*').size() <= 253))",
        message = "label keys must have a name of at most 63 characters and a prefix of at most 253")
    @ValidationRule(value = "self.all(x, x in [\"karpenter.sh/capacity-type\", \"karpenter.sh/nodepool\"] || !x.find(\"^([^/]+)\").endsWith(\"karpenter.sh\"))",
        message = WellKnownLabels.KEY_KARPENTER_DOMAIN_MESSAGE)
    @ValidationRule(value = "self.all(x, x != \"karpenter.sh/nodepool\")", message = "label \"karpenter.sh/nodepool\" is restricted")
    @ValidationRule(value = "self.all(x, x != \"kubernetes.io/hostname\")", message = WellKnownLabels.KEY_HOSTNAME_MESSAGE)
    @ValidationRule(value = "self.all(x, x in " + WellKnownLabels.AWS_USER_SETTABLE_CEL + " || !x.find(\"^([^/]+)\").endsWith(\"karpenter.k8s.aws\"))",
        message = WellKnownLabels.KEY_AWS_DOMAIN_MESSAGE)
    Map<String, String> labels,
    @JsonPropertyDescription("Annotations put on every NodeClaim and Node of the pool.")
    @MapType("granular")
    Map<String, String> annotations) {

  public TemplateMetadata {
    labels = labels == null ? null : Map.copyOf(labels);
    annotations = annotations == null ? null : Map.copyOf(annotations);
  }
}
