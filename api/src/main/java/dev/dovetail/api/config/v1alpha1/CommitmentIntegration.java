package dev.dovetail.api.config.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.dovetail.api.schema.ListType;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

/** Commitment context (RI / Savings Plans first). */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!self.enabled || has(self.cloudAccountId)", message = "commitmentIntegration.cloudAccountId is required when commitmentIntegration is enabled")
public record CommitmentIntegration(
    @JsonPropertyDescription("Prefer capacity covered by unused commitments: covered on-demand offerings are priced at zero for the unused amount.")
    @Default("false")
    Boolean enabled,
    @JsonPropertyDescription("The 12-digit payer (master) account whose Reserved Instances and Savings Plans are used.")
    @Pattern("^[0-9]{12}$")
    String cloudAccountId,
    @JsonPropertyDescription("The Reserved Instances of the simulated cloud (--cloud-provider sim); the AWS provider reads the account's.")
    @Size(max = 100) @ListType(ListType.Kind.ATOMIC)
    List<ReservedInstance> reservedInstances) {

  public CommitmentIntegration {
    reservedInstances = reservedInstances == null ? null : List.copyOf(reservedInstances);
  }

  public CommitmentIntegration(Boolean enabled, String cloudAccountId) {
    this(enabled, cloudAccountId, null);
  }
}
