package dev.dovetail.api.aws.v1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.dovetail.api.schema.Format;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;
import java.util.Map;

/** Desired state of an EC2NodeClass. */
@JsonClassDescription("EC2NodeClassSpec holds the EC2 launch settings shared by the nodes of every NodePool that references the class.")
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "(has(self.role) && !has(self.instanceProfile)) || (!has(self.role) && has(self.instanceProfile))",
    message = "must specify exactly one of ['role', 'instanceProfile']")
@ValidationRule(value = "!has(self.amiFamily) || (self.amiSelectorTerms.exists(x, has(x.alias) && x.alias.find('^[^@]+') == 'al2') ? (self.amiFamily == 'Custom' || self.amiFamily == 'AL2') : true)",
    message = "if set, amiFamily must be 'AL2' or 'Custom' when using an AL2 alias")
@ValidationRule(value = "!has(self.amiFamily) || (self.amiSelectorTerms.exists(x, has(x.alias) && x.alias.find('^[^@]+') == 'al2023') ? (self.amiFamily == 'Custom' || self.amiFamily == 'AL2023') : true)",
    message = "if set, amiFamily must be 'AL2023' or 'Custom' when using an AL2023 alias")
@ValidationRule(value = "!has(self.amiFamily) || (self.amiSelectorTerms.exists(x, has(x.alias) && x.alias.find('^[^@]+') == 'bottlerocket') ? (self.amiFamily == 'Custom' || self.amiFamily == 'Bottlerocket') : true)",
    message = "if set, amiFamily must be 'Bottlerocket' or 'Custom' when using a Bottlerocket alias")
@ValidationRule(value = "!has(self.amiFamily) || (self.amiSelectorTerms.exists(x, has(x.alias) && x.alias.find('^[^@]+') == 'windows2019') ? (self.amiFamily == 'Custom' || self.amiFamily == 'Windows2019') : true)",
    message = "if set, amiFamily must be 'Windows2019' or 'Custom' when using a Windows2019 alias")
@ValidationRule(value = "!has(self.amiFamily) || (self.amiSelectorTerms.exists(x, has(x.alias) && x.alias.find('^[^@]+') == 'windows2022') ? (self.amiFamily == 'Custom' || self.amiFamily == 'Windows2022') : true)",
    message = "if set, amiFamily must be 'Windows2022' or 'Custom' when using a Windows2022 alias")
@ValidationRule(value = "!has(self.amiFamily) || (self.amiSelectorTerms.exists(x, has(x.alias) && x.alias.find('^[^@]+') == 'windows2025') ? (self.amiFamily == 'Custom' || self.amiFamily == 'Windows2025') : true)",
    message = "if set, amiFamily must be 'Windows2025' or 'Custom' when using a Windows2025 alias")
@ValidationRule(value = "self.amiSelectorTerms.exists(x, has(x.alias)) ? true : has(self.amiFamily)",
    message = "must specify amiFamily if amiSelectorTerms does not contain an alias")
public record EC2NodeClassSpec(
    @JsonPropertyDescription("Subnets instances may launch into; the zones of these subnets are the zones the class offers.")
    @Required @Size(max = 30)
    @ValidationRule(value = "self.size() != 0", message = "subnetSelectorTerms cannot be empty")
    @ValidationRule(value = "self.all(x, has(x.tags) || has(x.id))", message = "expected at least one, got none, ['tags', 'id']")
    @ValidationRule(value = "!self.exists(x, has(x.id) && has(x.tags))",
        message = "'id' is mutually exclusive, cannot be set with a combination of other fields in a subnet selector term")
    List<SubnetSelectorTerm> subnetSelectorTerms,
    @JsonPropertyDescription("Security groups attached to launched instances.")
    @Required @Size(max = 30)
    @ValidationRule(value = "self.size() != 0", message = "securityGroupSelectorTerms cannot be empty")
    @ValidationRule(value = "self.all(x, has(x.tags) || has(x.id) || has(x.name))", message = "expected at least one, got none, ['tags', 'id', 'name']")
    @ValidationRule(value = "!self.exists(x, has(x.id) && (has(x.tags) || has(x.name)))",
        message = "'id' is mutually exclusive, cannot be set with a combination of other fields in a security group selector term")
    @ValidationRule(value = "!self.exists(x, has(x.name) && (has(x.tags) || has(x.id)))",
        message = "'name' is mutually exclusive, cannot be set with a combination of other fields in a security group selector term")
    List<SecurityGroupSelectorTerm> securityGroupSelectorTerms,
    @JsonPropertyDescription("On-demand capacity reservations instances may launch into (capacity type reserved).")
    @Size(max = 30)
    @ValidationRule(value = "self.all(x, has(x.tags) || has(x.id) || has(x.instanceMatchCriteria))",
        message = "expected at least one, got none, ['tags', 'id', 'instanceMatchCriteria']")
    // Karpenter v1.x admits the list when at least one term is not an id combined with other fields: an
    // id with tags, ownerID or instanceMatchCriteria is rejected only when every term is one, and an
    // empty list (no such term) is rejected as well. Matched as it is so that every EC2NodeClass
    // Karpenter accepts is accepted here and no more; such a term's fields are ANDed when resolved.
    @ValidationRule(value = "self.exists(x, !has(x.id) || !(has(x.tags) || has(x.ownerID) || has(x.instanceMatchCriteria)))",
        message = "'id' is mutually exclusive, cannot be set along with other fields in a capacity reservation selector term")
    List<CapacityReservationSelectorTerm> capacityReservationSelectorTerms,
    @JsonPropertyDescription("Give launched instances a public IPv4 address; unset follows the subnet's setting.")
    @JsonProperty("associatePublicIPAddress")
    Boolean associatePublicIPAddress,
    @JsonPropertyDescription("AMIs instances launch from; the newest compatible AMI wins for each architecture.")
    @Required @Size(min = 1, max = 30)
    @ValidationRule(value = "self.all(x, has(x.tags) || has(x.id) || has(x.name) || has(x.alias) || has(x.ssmParameter))",
        message = "expected at least one, got none, ['tags', 'id', 'name', 'alias', 'ssmParameter']")
    @ValidationRule(value = "!self.exists(x, has(x.id) && (has(x.alias) || has(x.tags) || has(x.name) || has(x.owner)))",
        message = "'id' is mutually exclusive, cannot be set with a combination of other fields in amiSelectorTerms")
    @ValidationRule(value = "!self.exists(x, has(x.alias) && (has(x.id) || has(x.tags) || has(x.name) || has(x.owner)))",
        message = "'alias' is mutually exclusive, cannot be set with a combination of other fields in amiSelectorTerms")
    @ValidationRule(value = "!(self.exists(x, has(x.alias)) && self.size() != 1)",
        message = "'alias' is mutually exclusive, cannot be set with a combination of other amiSelectorTerms")
    List<AmiSelectorTerm> amiSelectorTerms,
    @JsonPropertyDescription("Bootstrap format of the AMIs: AL2, AL2023, Bottlerocket, Windows2019, Windows2022, Windows2025, or Custom (user data is used as given). Implied by an alias.")
    AmiFamily amiFamily,
    @JsonPropertyDescription("User data merged with the generated bootstrap configuration (MIME multipart for AL2/AL2023, TOML for Bottlerocket).")
    String userData,
    @JsonPropertyDescription("IAM role for the instance profile Dovetail creates; exactly one of role and instanceProfile.")
    @ValidationRule(value = "self != ''", message = "role cannot be empty")
    String role,
    @JsonPropertyDescription("An existing instance profile to launch with; exactly one of role and instanceProfile.")
    @ValidationRule(value = "self != ''", message = "instanceProfile cannot be empty")
    String instanceProfile,
    @JsonPropertyDescription("Tags put on instances, volumes and launch templates. Keys reserved for ownership (kubernetes.io/cluster/*, eks:eks-cluster-name, karpenter.sh/nodepool, karpenter.sh/nodeclaim, karpenter.k8s.aws/ec2nodeclass) are rejected.")
    @ValidationRule(value = "self.all(k, k != '')", message = "empty tag keys aren't supported")
    @ValidationRule(value = "self.all(k, k != 'eks:eks-cluster-name')", message = "tag contains a restricted tag matching eks:eks-cluster-name")
    @ValidationRule(value = "self.all(k, !k.startsWith('kubernetes.io/cluster'))", message = "tag contains a restricted tag matching kubernetes.io/cluster/")
    @ValidationRule(value = "self.all(k, k != 'karpenter.sh/nodepool')", message = "tag contains a restricted tag matching karpenter.sh/nodepool")
    @ValidationRule(value = "self.all(k, k != 'karpenter.sh/nodeclaim')", message = "tag contains a restricted tag matching karpenter.sh/nodeclaim")
    @ValidationRule(value = "self.all(k, k != 'karpenter.k8s.aws/ec2nodeclass')", message = "tag contains a restricted tag matching karpenter.k8s.aws/ec2nodeclass")
    Map<String, String> tags,
    @JsonPropertyDescription("Kubelet settings of launched nodes.")
    KubeletConfiguration kubelet,
    @JsonPropertyDescription("Volumes attached to launched instances; at most one marked rootVolume.")
    @Size(max = 50)
    @ValidationRule(value = "self.filter(x, has(x.rootVolume) ? x.rootVolume == true : false).size() <= 1",
        message = "must have only one blockDeviceMappings with rootVolume")
    List<BlockDeviceMapping> blockDeviceMappings,
    @JsonPropertyDescription("How instance-store NVMe disks are used: RAID0 combines them into the node's ephemeral storage.")
    InstanceStorePolicy instanceStorePolicy,
    @JsonPropertyDescription("Enable detailed (1-minute) CloudWatch monitoring.")
    Boolean detailedMonitoring,
    @JsonPropertyDescription("Instance Metadata Service settings of launched instances.")
    @Default("{\"httpEndpoint\":\"enabled\",\"httpProtocolIPv6\":\"disabled\",\"httpPutResponseHopLimit\":1,\"httpTokens\":\"required\"}")
    MetadataOptions metadataOptions,
    @JsonPropertyDescription("Reserved context string passed to CreateFleet for AWS-managed use cases.")
    String context,
    @JsonPropertyDescription("IPv4 prefixes (/28) assigned to the primary interface, for prefix delegation.")
    @Min(0) @Format("int32")
    Integer ipPrefixCount,
    @JsonPropertyDescription("Connection-tracking idle timeouts of the primary interface.")
    ConnectionTracking connectionTracking,
    @JsonPropertyDescription("CPU options of launched instances.")
    CpuOptions cpuOptions,
    @JsonPropertyDescription("Network interfaces of launched instances: the primary interface (card 0, device 0, type interface) included, each card and device pair once, and at most one efa-only interface per network card.")
    @Size(max = 150)
    @ValidationRule(value = "self.size() == 0 || self.exists(x, x.deviceIndex == 0 && x.networkCardIndex == 0 && x.interfaceType == 'interface')",
        message = "networkInterfaces must include a primary interface with interfaceType='interface'")
    @ValidationRule(value = "self.all(x, self.exists_one(y, y.networkCardIndex == x.networkCardIndex && y.deviceIndex == x.deviceIndex)"
        + " && (x.interfaceType != 'efa-only' || self.exists_one(y, y.networkCardIndex == x.networkCardIndex && y.interfaceType == 'efa-only')))",
        message = "networkInterfaces must not have duplicate networkCardIndex and deviceIndex pairs, and can have at most one efa device per network card")
    List<NetworkInterface> networkInterfaces,
    @JsonPropertyDescription("Placement group instances launch into.")
    PlacementGroupSelector placementGroupSelector) {

  /** AMI families. */
  public enum AmiFamily { AL2, AL2023, Bottlerocket, Custom, Windows2019, Windows2022, Windows2025 }

  /** Instance-store policies. */
  public enum InstanceStorePolicy { RAID0 }
}
