package dev.dovetail.api.aws.v1;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.dovetail.api.karpenter.v1.Quantities;
import dev.dovetail.api.schema.Elements;
import dev.dovetail.api.schema.Format;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Kubelet settings for nodes of an EC2NodeClass. The fields the provisioner reads for scheduling are
 * typed and validated; any other upstream KubeletConfiguration field is kept and passed through to
 * the node's bootstrap configuration.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "has(self.imageGCHighThresholdPercent) && has(self.imageGCLowThresholdPercent) ? self.imageGCHighThresholdPercent > self.imageGCLowThresholdPercent : true",
    message = "imageGCHighThresholdPercent must be greater than imageGCLowThresholdPercent")
@ValidationRule(value = "has(self.evictionSoft) ? has(self.evictionSoftGracePeriod) && self.evictionSoft.all(e, e in self.evictionSoftGracePeriod) : true",
    message = "evictionSoft OwnerKey does not have a matching evictionSoftGracePeriod")
@ValidationRule(value = "has(self.evictionSoftGracePeriod) ? has(self.evictionSoft) && self.evictionSoftGracePeriod.all(e, e in self.evictionSoft) : true",
    message = "evictionSoftGracePeriod OwnerKey does not have a matching evictionSoft")
public final class KubeletConfiguration {
  static final String RESERVED_KEYS_RULE = "self.all(x, x in ['cpu', 'memory', 'ephemeral-storage', 'pid'])";
  static final String RESERVED_VALUES_RULE = "self.all(x, !self[x].startsWith('-'))";
  static final String SIGNAL_KEYS_RULE =
      "self.all(x, x in ['memory.available', 'nodefs.available', 'nodefs.inodesFree', 'imagefs.available', 'imagefs.inodesFree', 'pid.available'])";
  static final String SIGNAL_KEYS_MESSAGE =
      "valid keys are ['memory.available', 'nodefs.available', 'nodefs.inodesFree', 'imagefs.available', 'imagefs.inodesFree', 'pid.available']";
  /** A percentage (0-100%) or a quantity. */
  static final String THRESHOLD_PATTERN =
      "^((\\d{1,2}(\\.\\d{1,2})?|100(\\.0{1,2})?)%|(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?)$";

  @JsonPropertyDescription("IP addresses of the cluster DNS servers, used instead of the cluster default.")
  @JsonProperty("clusterDNS")
  @Size(max = 16) @Elements(maxLength = 64)
  private List<String> clusterDNS;

  @JsonPropertyDescription("Most pods the kubelet runs; unset means the ENI-based limit of the instance type.")
  @Min(0) @Format("int32")
  private Integer maxPods;

  @JsonPropertyDescription("Most pods per CPU core; the lower of this and maxPods applies.")
  @Min(0) @Format("int32")
  private Integer podsPerCore;

  @JsonPropertyDescription("Resources reserved for OS system daemons (keys cpu, memory, ephemeral-storage, pid).")
  @ValidationRule(value = RESERVED_KEYS_RULE, message = "valid keys for systemReserved are ['cpu','memory','ephemeral-storage','pid']")
  @ValidationRule(value = RESERVED_VALUES_RULE, message = "systemReserved value cannot be a negative resource quantity")
  @Size(max = 4) @Elements(pattern = Quantities.PATTERN, maxLength = 64)
  private Map<String, String> systemReserved;

  @JsonPropertyDescription("Resources reserved for Kubernetes system components (keys cpu, memory, ephemeral-storage, pid).")
  @ValidationRule(value = RESERVED_KEYS_RULE, message = "valid keys for kubeReserved are ['cpu','memory','ephemeral-storage','pid']")
  @ValidationRule(value = RESERVED_VALUES_RULE, message = "kubeReserved value cannot be a negative resource quantity")
  @Size(max = 4) @Elements(pattern = Quantities.PATTERN, maxLength = 64)
  private Map<String, String> kubeReserved;

  @JsonPropertyDescription("Hard eviction thresholds per signal (memory.available, nodefs.available, ...), as a percentage or a quantity.")
  @ValidationRule(value = SIGNAL_KEYS_RULE, message = SIGNAL_KEYS_MESSAGE)
  @Size(max = 6) @Elements(pattern = THRESHOLD_PATTERN, maxLength = 64)
  private Map<String, String> evictionHard;

  @JsonPropertyDescription("Soft eviction thresholds per signal; each needs a matching evictionSoftGracePeriod.")
  @ValidationRule(value = SIGNAL_KEYS_RULE, message = SIGNAL_KEYS_MESSAGE)
  @Size(max = 6) @Elements(pattern = THRESHOLD_PATTERN, maxLength = 64)
  private Map<String, String> evictionSoft;

  @JsonPropertyDescription("How long each soft eviction threshold must hold before pods are evicted (a Go duration such as 1m30s).")
  @ValidationRule(value = SIGNAL_KEYS_RULE, message = SIGNAL_KEYS_MESSAGE)
  @Size(max = 6) @Elements(maxLength = 64)
  private Map<String, String> evictionSoftGracePeriod;

  @JsonPropertyDescription("Longest pod termination grace period, in seconds, used when a soft eviction threshold is met.")
  @Format("int32")
  private Integer evictionMaxPodGracePeriod;

  @JsonPropertyDescription("Disk usage percentage above which image garbage collection always runs.")
  @Min(0) @Max(100) @Format("int32")
  private Integer imageGCHighThresholdPercent;

  @JsonPropertyDescription("Disk usage percentage image garbage collection frees down to; below imageGCHighThresholdPercent.")
  @Min(0) @Max(100) @Format("int32")
  private Integer imageGCLowThresholdPercent;

  @JsonPropertyDescription("Enforce CPU limits with CFS quota for containers that set them.")
  @JsonProperty("cpuCFSQuota")
  private Boolean cpuCFSQuota;

  @JsonIgnore
  private final Map<String, Object> additionalProperties = new LinkedHashMap<>();

  public List<String> getClusterDNS() {
    return clusterDNS;
  }

  public void setClusterDNS(List<String> clusterDNS) {
    this.clusterDNS = clusterDNS;
  }

  public Integer getMaxPods() {
    return maxPods;
  }

  public void setMaxPods(Integer maxPods) {
    this.maxPods = maxPods;
  }

  public Integer getPodsPerCore() {
    return podsPerCore;
  }

  public void setPodsPerCore(Integer podsPerCore) {
    this.podsPerCore = podsPerCore;
  }

  public Map<String, String> getSystemReserved() {
    return systemReserved;
  }

  public void setSystemReserved(Map<String, String> systemReserved) {
    this.systemReserved = systemReserved;
  }

  public Map<String, String> getKubeReserved() {
    return kubeReserved;
  }

  public void setKubeReserved(Map<String, String> kubeReserved) {
    this.kubeReserved = kubeReserved;
  }

  public Map<String, String> getEvictionHard() {
    return evictionHard;
  }

  public void setEvictionHard(Map<String, String> evictionHard) {
    this.evictionHard = evictionHard;
  }

  public Map<String, String> getEvictionSoft() {
    return evictionSoft;
  }

  public void setEvictionSoft(Map<String, String> evictionSoft) {
    this.evictionSoft = evictionSoft;
  }

  public Map<String, String> getEvictionSoftGracePeriod() {
    return evictionSoftGracePeriod;
  }

  public void setEvictionSoftGracePeriod(Map<String, String> evictionSoftGracePeriod) {
    this.evictionSoftGracePeriod = evictionSoftGracePeriod;
  }

  public Integer getEvictionMaxPodGracePeriod() {
    return evictionMaxPodGracePeriod;
  }

  public void setEvictionMaxPodGracePeriod(Integer evictionMaxPodGracePeriod) {
    this.evictionMaxPodGracePeriod = evictionMaxPodGracePeriod;
  }

  public Integer getImageGCHighThresholdPercent() {
    return imageGCHighThresholdPercent;
  }

  public void setImageGCHighThresholdPercent(Integer imageGCHighThresholdPercent) {
    this.imageGCHighThresholdPercent = imageGCHighThresholdPercent;
  }

  public Integer getImageGCLowThresholdPercent() {
    return imageGCLowThresholdPercent;
  }

  public void setImageGCLowThresholdPercent(Integer imageGCLowThresholdPercent) {
    this.imageGCLowThresholdPercent = imageGCLowThresholdPercent;
  }

  public Boolean getCpuCFSQuota() {
    return cpuCFSQuota;
  }

  public void setCpuCFSQuota(Boolean cpuCFSQuota) {
    this.cpuCFSQuota = cpuCFSQuota;
  }

  /** Upstream KubeletConfiguration fields Dovetail does not interpret; passed through unchanged. */
  @JsonAnyGetter
  public Map<String, Object> getAdditionalProperties() {
    return additionalProperties;
  }

  @JsonAnySetter
  public void setAdditionalProperty(String name, Object value) {
    additionalProperties.put(name, value);
  }
}
