package dev.dovetail.api.aws.v1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.schema.Format;
import dev.dovetail.api.schema.ListType;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import java.util.List;

/** Observed state of an EC2NodeClass: what its selectors resolved to. */
@JsonClassDescription("EC2NodeClassStatus lists the subnets, security groups, AMIs and capacity reservations the class's selectors resolved to.")
@JsonInclude(JsonInclude.Include.NON_NULL)
public record EC2NodeClassStatus(
    @JsonPropertyDescription("Subnets the subnet selector terms resolved to, with their zones.")
    List<Subnet> subnets,
    @JsonPropertyDescription("Security groups the security group selector terms resolved to.")
    List<SecurityGroup> securityGroups,
    @JsonPropertyDescription("AMIs the AMI selector terms resolved to, with the node requirements each applies to.")
    List<Ami> amis,
    @JsonPropertyDescription("Capacity reservations the capacity reservation selector terms resolved to.")
    List<CapacityReservation> capacityReservations,
    @JsonPropertyDescription("Name of the instance profile instances launch with.")
    String instanceProfile,
    @JsonPropertyDescription("AMIsReady, SubnetsReady, SecurityGroupsReady, InstanceProfileReady, ValidationSucceeded and the roll-up Ready.")
    @ListType(value = ListType.Kind.MAP, mapKeys = "type")
    List<Condition> conditions) {

  /** A resolved subnet. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Subnet(
      @JsonPropertyDescription("Subnet id.") @Required String id,
      @JsonPropertyDescription("Availability zone of the subnet.") @Required String zone,
      @JsonPropertyDescription("Availability zone id of the subnet.") @JsonProperty("zoneID") String zoneID) {
  }

  /** A resolved security group. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record SecurityGroup(
      @JsonPropertyDescription("Security group id.") @Required String id,
      @JsonPropertyDescription("Security group name.") String name) {
  }

  /** A resolved AMI. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Ami(
      @JsonPropertyDescription("AMI id.") @Required String id,
      @JsonPropertyDescription("AMI name.") String name,
      @JsonPropertyDescription("Whether the AMI is deprecated; used only when no other AMI matches.") Boolean deprecated,
      @JsonPropertyDescription("Node requirements (architecture, GPU, ...) this AMI serves.") @Required List<AmiRequirement> requirements) {
  }

  /** A requirement an AMI is compatible with. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record AmiRequirement(
      @JsonPropertyDescription("Label key.") @Required String key,
      @JsonPropertyDescription("Operator: In, NotIn, Exists, DoesNotExist, Gt or Lt.") @Required String operator,
      @JsonPropertyDescription("Values of the requirement.") @ListType(ListType.Kind.ATOMIC) List<String> values) {
  }

  /** A resolved capacity reservation. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record CapacityReservation(
      @JsonPropertyDescription("Availability zone of the reservation.") @Required String availabilityZone,
      @JsonPropertyDescription("When the reservation ends, if it does.") @Format("date-time") String endTime,
      @JsonPropertyDescription("Reservation id.") @Required @Pattern("^cr-[0-9a-z]+$") String id,
      @JsonPropertyDescription("open or targeted.") @Required CapacityReservationSelectorTerm.InstanceMatchCriteria instanceMatchCriteria,
      @JsonPropertyDescription("Instance type of the reservation.") @Required String instanceType,
      @JsonPropertyDescription("Whether the reservation's capacity can be interrupted.") Boolean interruptible,
      @JsonPropertyDescription("Account that owns the reservation.") @JsonProperty("ownerID") @Required @Pattern("^[0-9]{12}$") String ownerID,
      @JsonPropertyDescription("default or capacity-block.") @Default("default") ReservationType reservationType,
      @JsonPropertyDescription("active or expiring.") @Default("active") State state) {

    /** Reservation types. */
    public enum ReservationType {
      @JsonProperty("default") DEFAULT,
      @JsonProperty("capacity-block") CAPACITY_BLOCK
    }

    /** Reservation states. */
    public enum State {
      @JsonProperty("active") ACTIVE,
      @JsonProperty("expiring") EXPIRING
    }
  }
}
