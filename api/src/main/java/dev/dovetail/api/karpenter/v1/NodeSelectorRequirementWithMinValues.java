package dev.dovetail.api.karpenter.v1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.dovetail.api.schema.Elements;
import dev.dovetail.api.schema.ListType;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

/**
 * A node selector requirement over a label key, with Karpenter's optional {@code minValues}: the
 * least number of distinct values of the key that the launch must stay flexible across.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record NodeSelectorRequirementWithMinValues(
    @JsonPropertyDescription("The label key the requirement applies to, such as karpenter.sh/capacity-type or node.kubernetes.io/instance-type.")
    @Required @Size(max = 316) @Pattern(WellKnownLabels.QUALIFIED_NAME_PATTERN)
    @ValidationRule(value = WellKnownLabels.KEY_KARPENTER_DOMAIN_RULE, message = WellKnownLabels.KEY_KARPENTER_DOMAIN_MESSAGE)
    @ValidationRule(value = WellKnownLabels.KEY_HOSTNAME_RULE, message = WellKnownLabels.KEY_HOSTNAME_MESSAGE)
    @ValidationRule(value = WellKnownLabels.KEY_AWS_DOMAIN_RULE, message = WellKnownLabels.KEY_AWS_DOMAIN_MESSAGE)
    String key,
    @JsonPropertyDescription("How the key relates to the values: In, NotIn, Exists, DoesNotExist, Gt, Lt, Gte or Lte.")
    @Required
    Operator operator,
    @JsonPropertyDescription("Values for In and NotIn (at least one for In); a single non-negative integer for Gt, Lt, Gte and Lte; none for Exists and DoesNotExist.")
    @ListType(ListType.Kind.ATOMIC) @Elements(maxLength = 63, pattern = WellKnownLabels.LABEL_VALUE_PATTERN)
    List<String> values,
    @JsonPropertyDescription("Least number of distinct values of this key the launch must keep open (In only; at most the number of values).")
    @Min(1) @Max(50)
    Integer minValues) {

  /** Requirement operators. {@code Gte} and {@code Lte} arrived in Karpenter v1.9. */
  public enum Operator { In, NotIn, Exists, DoesNotExist, Gt, Lt, Gte, Lte }

  public NodeSelectorRequirementWithMinValues {
    values = values == null ? null : List.copyOf(values);
  }

  public static NodeSelectorRequirementWithMinValues in(String key, String... values) {
    return new NodeSelectorRequirementWithMinValues(key, Operator.In, List.of(values), null);
  }

  public static NodeSelectorRequirementWithMinValues of(String key, Operator operator, String... values) {
    return new NodeSelectorRequirementWithMinValues(key, operator, values.length == 0 ? null : List.of(values), null);
  }

  // CEL for lists of requirements (list-level, so the messages can name the operator).
  static final String IN_NEEDS_VALUE_RULE = "self.all(x, x.operator == 'In' ? has(x.values) && x.values.size() != 0 : true)";
  static final String IN_NEEDS_VALUE_MESSAGE = "requirements with operator 'In' must have a value defined";
  static final String BOUND_NEEDS_INTEGER_RULE =
      "self.all(x, x.operator in ['Gt', 'Lt', 'Gte', 'Lte'] ? has(x.values) && x.values.size() == 1 && x.values[0].matches('^[0-9]+$') : true)";
  static final String BOUND_NEEDS_INTEGER_MESSAGE =
      "requirements operator 'Gt', 'Lt', 'Gte', or 'Lte' must have a single positive integer value";
  static final String MIN_VALUES_RULE =
      "self.all(x, (x.operator == 'In' && has(x.minValues)) ? has(x.values) && x.values.size() >= x.minValues : true)";
  static final String MIN_VALUES_MESSAGE =
      "requirements with 'minValues' must have at least that many values specified in the 'values' field";
}
