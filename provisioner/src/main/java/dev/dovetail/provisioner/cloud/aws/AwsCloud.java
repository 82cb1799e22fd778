package dev.dovetail.provisioner.cloud.aws;

import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.provisioner.cloud.CloudProvider;
import dev.dovetail.provisioner.cloud.UnavailableOfferings;
import dev.dovetail.provisioner.cloud.aws.pricing.AwsCatalog;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import software.amazon.awssdk.services.ec2.model.SpotAllocationStrategy;

/**
 * EC2 as the provisioner's cloud, assembled: the SDK clients, the catalog refreshed from AWS and the
 * cloud provider over both. The only way the rest of the provisioner reaches AWS.
 */
public final class AwsCloud implements AutoCloseable {
  /**
   * Where to call (Region, an endpoint override for a local EC2), what nodes need to join (the API server
   * endpoint, its CA bundle, the service CIDR) and the default spot allocation strategy, as EC2 Fleet
   * names it ({@code price-capacity-optimized}, ...).
   */
  public record Options(Optional<String> region, Optional<URI> endpoint, String clusterEndpoint, String caBundle, String serviceCidr,
      String spotStrategy) {
    public Options {
      if (SpotAllocationStrategy.fromValue(spotStrategy) == SpotAllocationStrategy.UNKNOWN_TO_SDK_VERSION) {
        throw new IllegalArgumentException("--spot-allocation-strategy must be one of price-capacity-optimized, capacity-optimized, "
            + "capacity-optimized-prioritized, lowest-price, diversified; not " + spotStrategy);
      }
    }
  }

  private final AwsClients clients;
  private final AwsCatalog catalog;
  private final AwsCloudProvider provider;

  /**
   * @param bundled           what is known before AWS answers (used as is when it covers the same Region)
   * @param kubernetesVersion minor version (1.34) for the AMI aliases' SSM parameters
   * @param unavailable offerings that had no capacity lately
   */
  public AwsCloud(Options options, String clusterName, String kubernetesVersion, Catalog bundled, MeterRegistry registry, Clock clock,
      UnavailableOfferings unavailable) {
    this.clients = new AwsClients(options.region(), options.endpoint());
    String region = clients.ec2().serviceClientConfiguration().region().id();
    this.catalog = new AwsCatalog(clients.ec2(), clients.pricing(), AwsCatalog.Settings.defaults(region), bundled, registry);
    this.provider = new AwsCloudProvider(clients, new AwsCloudProvider.Settings(clusterName,
        new UserData.Cluster(clusterName, options.clusterEndpoint(), options.caBundle(), options.serviceCidr()), kubernetesVersion,
        SpotAllocationStrategy.fromValue(options.spotStrategy())), catalog, unavailable, clock);
  }

  public CloudProvider provider() {
    return provider;
  }

  /** Whether the ClusterOrchestratorConfig's commitment integration is on: the account's commitments are read while it is. */
  public AwsCloud commitmentsEnabled(BooleanSupplier enabled) {
    provider.commitmentsEnabled(enabled);
    return this;
  }

  /** The current catalog (the bundled one until AWS answers). */
  public Supplier<Catalog> catalog() {
    return catalog;
  }

  /** Completes once the catalog has been refreshed from AWS once (whatever the outcome). */
  public CompletableFuture<Void> firstRefresh() {
    return catalog.firstRefresh();
  }

  /** Starts refreshing the catalog and the account's commitments on the timer. */
  public AwsCloud start(ScheduledExecutorService timer) {
    catalog.start(timer);
    provider.start(timer);
    return this;
  }

  @Override
  public void close() {
    provider.stop();
    catalog.close();
    clients.close();
  }
}
