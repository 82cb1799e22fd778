package dev.dovetail.api.karpenter.v1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.dovetail.api.schema.Elements;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.Map;

/** Resources a NodeClaim was sized for. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ResourceRequirements(
    @JsonPropertyDescription("Sum of the requests of the pods the NodeClaim was created for, plus DaemonSet overhead.")
    @Elements(pattern = Quantities.PATTERN)
    Map<String, Quantity> requests) {

  public ResourceRequirements {
    requests = requests == null ? null : Map.copyOf(requests);
  }
}
