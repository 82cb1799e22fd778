package dev.dovetail.provisioner.cloud.aws;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.aws.v1.EC2NodeClassStatus;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.config.v1alpha1.ReservedInstance;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.scheduling.InstanceOption;
import dev.dovetail.api.scheduling.Offering;
import dev.dovetail.provisioner.cloud.CloudProvider;
import dev.dovetail.provisioner.cloud.Instance;
import dev.dovetail.provisioner.cloud.InstanceOptionCache;
import dev.dovetail.provisioner.cloud.UnavailableOfferings;
import dev.dovetail.provisioner.cloud.aws.pricing.AwsCatalog;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.ec2.model.SpotAllocationStrategy;

/**
 * EC2 as the provisioner's cloud, through the async SDK: node classes resolve to subnets, security
 * groups, AMIs and an instance profile; a NodeClaim launches as an instant EC2 Fleet of one instance
 * over the cheapest compatible type × zone pools of one capacity type, with a client token from the
 * NodeClaim's UID and the NodeClaim named in a tag, so neither a retried call nor a restarted
 * provisioner launches twice. Pools that report no capacity are kept out of simulations for three
 * minutes and the launch is tried once more without them.
 */
public final class AwsCloudProvider implements CloudProvider {
  private static final Logger LOG = LoggerFactory.getLogger(AwsCloudProvider.class);
  /** Tag marking what this provisioner launched, with the cluster's name. */
  public static final String OWNER_TAG = "dovetail.dev/cluster";
  public static final String NODECLAIM_TAG = "karpenter.sh/nodeclaim";
  public static final String NODEPOOL_TAG = "karpenter.sh/nodepool";
  public static final String NODECLASS_TAG = "karpenter.k8s.aws/ec2nodeclass";

  /**
   * @param cluster           what nodes need to join the cluster (endpoint, CA, service CIDR)
   * @param kubernetesVersion minor version (1.34) for the AMI aliases' SSM parameters
   * @param spotStrategy      the spot allocation strategy when no distribution rule names one
   */
  public record Settings(String clusterName, UserData.Cluster cluster, String kubernetesVersion, SpotAllocationStrategy spotStrategy) {
  }

  static final String RESERVATION_ID_LABEL = "karpenter.k8s.aws/capacity-reservation-id";
  static final String RESERVATION_TYPE_LABEL = "karpenter.k8s.aws/capacity-reservation-type";

  private final Settings settings;
  private final InstanceOptionCache options;
  private final LaunchTemplates templates;
  private final NodeClassResolver resolver;
  private final Instances instances;
  private final FleetLauncher launcher;
  private final Commitments commitments;
  private final Clock clock;
  private Duration templateIdle = Duration.ofHours(1);

  public AwsCloudProvider(AwsClients aws, Settings settings, Catalog catalog, UnavailableOfferings unavailable, Clock clock) {
    this(aws, settings, () -> catalog, unavailable, clock);
  }

  /** @param catalog the current catalog, which {@link AwsCatalog} refreshes */
  public AwsCloudProvider(AwsClients aws, Settings settings, Supplier<Catalog> catalog, UnavailableOfferings unavailable, Clock clock) {
    this.settings = settings;
    CapacityReservations reservations = new CapacityReservations(aws.ec2());
    this.instances = new Instances(aws, settings, catalog);
    this.commitments = new Commitments(aws.ec2(), aws.savingsPlans(), aws.ec2().serviceClientConfiguration().region().id(),
        Commitments.onDemandInstances(aws.ec2()), clock);
    this.options = new InstanceOptionCache(catalog, unavailable, (nodeClass, current) -> merge(reservations.offerings(nodeClass, current),
        commitments.offerings(current)));
    this.templates = new LaunchTemplates(aws.ec2(), settings.clusterName());
    this.resolver = new NodeClassResolver(aws, settings, reservations, templates, clock);
    this.launcher = new FleetLauncher(aws, settings, options, templates, reservations, commitments, instances, clock);
    this.clock = clock;
  }

  private static Map<String, List<Offering>> merge(Map<String, List<Offering>> a, Map<String, List<Offering>> b) {
    if (b.isEmpty()) {
      return a;
    }
    if (a.isEmpty()) {
      return b;
    }
    Map<String, List<Offering>> out = new TreeMap<>(a);
    b.forEach((type, offerings) -> out.merge(type, offerings, (x, y) -> {
      List<Offering> both = new ArrayList<>(x);
      both.addAll(y);
      return List.copyOf(both);
    }));
    return out;
  }

  /**
   * Whether the commitment integration is on (the ClusterOrchestratorConfig's): while it is, the account's
   * Reserved Instances and Savings Plans are read and their room offered as committed on-demand capacity.
   */
  public AwsCloudProvider commitmentsEnabled(BooleanSupplier enabled) {
    commitments.enabled(enabled);
    return this;
  }

  /** Reads the account's commitments now and on their period. */
  public void start(ScheduledExecutorService timer) {
    commitments.start(timer);
  }

  public void stop() {
    commitments.stop();
  }

  /** Reads the account's commitments and the instances in use now (tests; the timer does it otherwise). */
  CompletableFuture<Void> refreshCommitments() {
    return commitments.refresh();
  }

  @Override
  public List<ReservedInstance> reservedInstances() {
    return commitments.reservedInstances();
  }

  @Override
  public List<ReservedInstanceUse> reservedInstanceUse() {
    return commitments.reservedInstanceUse();
  }

  @Override
  public List<SavingsPlanUse> savingsPlans() {
    return commitments.savingsPlanUse();
  }

  @Override
  public boolean readsAccountCommitments() {
    return true;
  }

  @Override
  public String name() {
    return "aws";
  }

  @Override
  public CompletionStage<EC2NodeClassStatus> resolve(EC2NodeClass nodeClass) {
    return resolver.resolve(nodeClass);
  }

  /**
   * The class is gone: its launch templates (tagged with it) are deleted, and the instance profile made
   * for its role loses the role and is deleted; a profile named in {@code instanceProfile} is the user's.
   */
  @Override
  public CompletionStage<Void> cleanUp(EC2NodeClass nodeClass) {
    return resolver.cleanUp(nodeClass);
  }

  /**
   * Launch templates of this cluster that no launch of this process used in the last hour and that are
   * older than {@code templateIdle} (a class changed, a pool went away, or the process restarted) are
   * deleted, as Karpenter lets its template cache expire; the next launch that needs one creates it again.
   */
  @Override
  public CompletionStage<Void> collectGarbage() {
    return templates.collect(clock.instant().minus(templateIdle));
  }

  /** For tests: how old an unused template must be before it is collected. */
  void templateIdle(Duration idle) {
    this.templateIdle = idle;
  }

  @Override
  public CompletionStage<List<InstanceOption>> instanceOptions(EC2NodeClass nodeClass) {
    return CompletableFuture.completedFuture(options.optionsFor(nodeClass));
  }

  @Override
  public void markUnavailable(String instanceType, String zone, String capacityType) {
    options.unavailable().mark(instanceType, zone, capacityType);
  }

  @Override
  public CompletionStage<Instance> create(NodeClaim claim, EC2NodeClass nodeClass) {
    return launcher.create(claim, nodeClass);
  }

  @Override
  public CompletionStage<Void> delete(NodeClaim claim) {
    return instances.delete(claim);
  }

  @Override
  public CompletionStage<Instance> get(String providerId) {
    return instances.get(providerId);
  }

  @Override
  public CompletionStage<List<Instance>> list() {
    return instances.list();
  }
}
