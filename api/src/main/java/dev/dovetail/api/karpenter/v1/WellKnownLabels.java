package dev.dovetail.api.karpenter.v1;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Label keys Karpenter and Kubernetes give meaning to (karpenter {@code pkg/apis/v1/labels.go} and the
 * AWS provider's). Requirements and pod selectors over these keys are understood by every Dovetail
 * component; the restricted domains cannot be set by users on NodePool templates.
 */
public final class WellKnownLabels {
  private WellKnownLabels() {
  }

  public static final String KARPENTER_DOMAIN = "karpenter.sh";
  public static final String AWS_DOMAIN = "karpenter.k8s.aws";

  public static final String NODEPOOL = "karpenter.sh/nodepool";
  public static final String CAPACITY_TYPE = "karpenter.sh/capacity-type";
  public static final String REGISTERED = "karpenter.sh/registered";
  /** Taint (NoSchedule) on a node being disrupted: drained for termination or about to be reclaimed. */
  public static final String DISRUPTED_TAINT = "karpenter.sh/disrupted";
  public static final String INITIALIZED = "karpenter.sh/initialized";
  public static final String DO_NOT_SYNC_TAINTS = "karpenter.sh/do-not-sync-taints";

  public static final String ZONE = "topology.kubernetes.io/zone";
  public static final String REGION = "topology.kubernetes.io/region";
  public static final String INSTANCE_TYPE = "node.kubernetes.io/instance-type";
  public static final String ARCH = "kubernetes.io/arch";
  public static final String OS = "kubernetes.io/os";
  public static final String WINDOWS_BUILD = "node.kubernetes.io/windows-build";
  public static final String HOSTNAME = "kubernetes.io/hostname";
  public static final String ZONE_ID = "topology.k8s.aws/zone-id";

  public static final String EC2NODECLASS = "karpenter.k8s.aws/ec2nodeclass";
  public static final String INSTANCE_CATEGORY = "karpenter.k8s.aws/instance-category";
  public static final String INSTANCE_FAMILY = "karpenter.k8s.aws/instance-family";
  public static final String INSTANCE_GENERATION = "karpenter.k8s.aws/instance-generation";
  public static final String INSTANCE_SIZE = "karpenter.k8s.aws/instance-size";
  public static final String INSTANCE_CPU = "karpenter.k8s.aws/instance-cpu";
  public static final String INSTANCE_CPU_MANUFACTURER = "karpenter.k8s.aws/instance-cpu-manufacturer";
  public static final String INSTANCE_MEMORY = "karpenter.k8s.aws/instance-memory";
  public static final String INSTANCE_GPU_NAME = "karpenter.k8s.aws/instance-gpu-name";
  public static final String INSTANCE_GPU_MANUFACTURER = "karpenter.k8s.aws/instance-gpu-manufacturer";
  public static final String INSTANCE_GPU_COUNT = "karpenter.k8s.aws/instance-gpu-count";
  public static final String INSTANCE_GPU_MEMORY = "karpenter.k8s.aws/instance-gpu-memory";

  /** Capacity types ({@code karpenter.sh/capacity-type} values). */
  public static final String SPOT = "spot";
  public static final String ON_DEMAND = "on-demand";
  public static final String RESERVED = "reserved";

  /**
   * Keys under {@code karpenter.k8s.aws} that users may still set or require: the exceptions Karpenter
   * v1.14's CRDs make to the restricted domain. Kept in the order of the CEL list below;
   * {@code WellKnownLabelsTest} fails if the two disagree.
   */
  public static final List<String> AWS_USER_SETTABLE = List.of(
      "karpenter.k8s.aws/instance-tenancy",
      "karpenter.k8s.aws/capacity-reservation-type",
      "karpenter.k8s.aws/capacity-reservation-id",
      "karpenter.k8s.aws/capacity-reservation-interruptible",
      "karpenter.k8s.aws/ec2nodeclass",
      "karpenter.k8s.aws/instance-encryption-in-transit-supported",
      "karpenter.k8s.aws/instance-category",
      "karpenter.k8s.aws/instance-hypervisor",
      "karpenter.k8s.aws/instance-family",
      "karpenter.k8s.aws/instance-generation",
      "karpenter.k8s.aws/instance-local-nvme",
      "karpenter.k8s.aws/instance-size",
      "karpenter.k8s.aws/instance-cpu",
      "karpenter.k8s.aws/instance-cpu-manufacturer",
      "karpenter.k8s.aws/instance-cpu-sustained-clock-speed-mhz",
      "karpenter.k8s.aws/instance-memory",
      "karpenter.k8s.aws/instance-ebs-bandwidth",
      "karpenter.k8s.aws/instance-network-bandwidth",
      "karpenter.k8s.aws/instance-gpu-name",
      "karpenter.k8s.aws/instance-gpu-manufacturer",
      "karpenter.k8s.aws/instance-gpu-count",
      "karpenter.k8s.aws/instance-gpu-memory",
      "karpenter.k8s.aws/instance-accelerator-name",
      "karpenter.k8s.aws/instance-accelerator-manufacturer",
      "karpenter.k8s.aws/instance-accelerator-count",
      "karpenter.k8s.aws/instance-capability-flex",
      "karpenter.k8s.aws/placement-group-id",
      "karpenter.k8s.aws/placement-group-partition");

  /** Keys under {@code karpenter.sh} that users may set or require. */
  public static final Set<String> KARPENTER_USER_SETTABLE = Set.of(CAPACITY_TYPE, NODEPOOL);

  /**
   * Keys whose values the provisioner decides when it launches a node (from the instance type, the
   * offering or the pool), so a pod may require them even though no NodePool lists them.
   */
  public static final Set<String> PROVIDER_DEFINED = Set.of(NODEPOOL, CAPACITY_TYPE, ZONE, REGION, INSTANCE_TYPE, ARCH, OS,
      ZONE_ID, INSTANCE_CATEGORY, INSTANCE_FAMILY, INSTANCE_GENERATION, INSTANCE_SIZE, INSTANCE_CPU, INSTANCE_CPU_MANUFACTURER,
      INSTANCE_MEMORY, INSTANCE_GPU_NAME, INSTANCE_GPU_MANUFACTURER, INSTANCE_GPU_COUNT, INSTANCE_GPU_MEMORY,
      "karpenter.k8s.aws/instance-hypervisor", "karpenter.k8s.aws/instance-network-bandwidth",
      "karpenter.k8s.aws/instance-ebs-bandwidth", "karpenter.k8s.aws/instance-local-nvme", "karpenter.k8s.aws/instance-encryption-in-transit-supported");

  /** Deprecated beta keys and the stable keys they mean. */
  public static final Map<String, String> NORMALIZED = Map.of(
      "failure-domain.beta.kubernetes.io/zone", ZONE,
      "failure-domain.beta.kubernetes.io/region", REGION,
      "beta.kubernetes.io/arch", ARCH,
      "beta.kubernetes.io/os", OS,
      "beta.kubernetes.io/instance-type", INSTANCE_TYPE);

  /** Returns the stable key for a deprecated beta key, or the key itself. */
  public static String normalize(String key) {
    return NORMALIZED.getOrDefault(key, key);
  }

  // --- CEL fragments shared by the CRD schemas. Annotation values must be compile-time constants,
  // --- hence the literal list; WellKnownLabelsTest checks it against AWS_USER_SETTABLE.

  static final String AWS_USER_SETTABLE_CEL = "[\"karpenter.k8s.aws/instance-tenancy\", "
      + "\"karpenter.k8s.aws/capacity-reservation-type\", \"karpenter.k8s.aws/capacity-reservation-id\", "
      + "\"karpenter.k8s.aws/capacity-reservation-interruptible\", \"karpenter.k8s.aws/ec2nodeclass\", "
      + "\"karpenter.k8s.aws/instance-encryption-in-transit-supported\", "
      + "\"karpenter.k8s.aws/instance-category\", \"karpenter.k8s.aws/instance-hypervisor\", "
      + "\"karpenter.k8s.aws/instance-family\", \"karpenter.k8s.aws/instance-generation\", "
      + "\"karpenter.k8s.aws/instance-local-nvme\", \"karpenter.k8s.aws/instance-size\", "
      + "\"karpenter.k8s.aws/instance-cpu\", \"karpenter.k8s.aws/instance-cpu-manufacturer\", "
      + "\"karpenter.k8s.aws/instance-cpu-sustained-clock-speed-mhz\", \"karpenter.k8s.aws/instance-memory\", "
      + "\"karpenter.k8s.aws/instance-ebs-bandwidth\", \"karpenter.k8s.aws/instance-network-bandwidth\", "
      + "\"karpenter.k8s.aws/instance-gpu-name\", \"karpenter.k8s.aws/instance-gpu-manufacturer\", "
      + "\"karpenter.k8s.aws/instance-gpu-count\", \"karpenter.k8s.aws/instance-gpu-memory\", "
      + "\"karpenter.k8s.aws/instance-accelerator-name\", \"karpenter.k8s.aws/instance-accelerator-manufacturer\", "
      + "\"karpenter.k8s.aws/instance-accelerator-count\", \"karpenter.k8s.aws/instance-capability-flex\", "
      + "\"karpenter.k8s.aws/placement-group-id\", \"karpenter.k8s.aws/placement-group-partition\"]";

  /** A label key: an optional DNS-subdomain prefix and a name (Kubernetes' qualified name). */
  public static final String QUALIFIED_NAME_PATTERN =
      "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*(\\/))?([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$";
  /** A label value: empty, or alphanumerics with '-', '_' and '.' inside. */
  public static final String LABEL_VALUE_PATTERN = "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$";

  static final String KEY_KARPENTER_DOMAIN_RULE =
      "self in [\"karpenter.sh/capacity-type\", \"karpenter.sh/nodepool\"] || !self.find(\"^([^/]+)\").endsWith(\"karpenter.sh\")";
  static final String KEY_KARPENTER_DOMAIN_MESSAGE = "label domain \"karpenter.sh\" is restricted";
  static final String KEY_HOSTNAME_RULE = "self != \"kubernetes.io/hostname\"";
  static final String KEY_HOSTNAME_MESSAGE = "label \"kubernetes.io/hostname\" is restricted";
  static final String KEY_AWS_DOMAIN_RULE =
      "self in " + AWS_USER_SETTABLE_CEL + " || !self.find(\"^([^/]+)\").endsWith(\"karpenter.k8s.aws\")";
  static final String KEY_AWS_DOMAIN_MESSAGE = "label domain \"karpenter.k8s.aws\" is restricted";
}
