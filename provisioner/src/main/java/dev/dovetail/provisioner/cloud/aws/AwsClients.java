package dev.dovetail.provisioner.cloud.aws;

import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import software.amazon.awssdk.awscore.client.builder.AwsAsyncClientBuilder;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.http.async.SdkAsyncHttpClient;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2AsyncClient;
import software.amazon.awssdk.services.iam.IamAsyncClient;
import software.amazon.awssdk.services.pricing.PricingAsyncClient;
import software.amazon.awssdk.services.savingsplans.SavingsplansAsyncClient;
import software.amazon.awssdk.services.ssm.SsmAsyncClient;

/**
 * The async AWS clients of the provider, sharing one Netty HTTP client (its own event loop, never a
 * caller's thread), credentials from the default chain (IRSA, EKS Pod Identity, environment) and the
 * adaptive retry mode, which backs off and rate-limits itself when EC2 throttles.
 */
public final class AwsClients implements AutoCloseable {
  private final SdkAsyncHttpClient http;
  private final Ec2AsyncClient ec2;
  private final SsmAsyncClient ssm;
  private final IamAsyncClient iam;
  private final PricingAsyncClient pricing;
  private final Optional<SavingsplansAsyncClient> savingsPlans;

  public AwsClients(Optional<String> region, Optional<URI> endpoint) {
    // A burst of launches queues for a connection rather than failing: the pool is bounded, the wait generous.
    this.http = NettyNioAsyncHttpClient.builder().maxConcurrency(128).connectionTimeout(Duration.ofSeconds(5))
        .connectionAcquisitionTimeout(Duration.ofSeconds(60)).readTimeout(Duration.ofSeconds(30)).build();
    this.ec2 = configure(Ec2AsyncClient.builder(), region, endpoint).build();
    this.ssm = configure(SsmAsyncClient.builder(), region, endpoint).build();
    // IAM is global: its endpoint lives in us-east-1 (aws partition) whatever the cluster's Region.
    this.iam = configure(IamAsyncClient.builder(), Optional.of(endpoint.isPresent() ? region.orElse("us-east-1") : "aws-global"), endpoint).build();
    this.pricing = configure(PricingAsyncClient.builder(), Optional.of(pricingRegion(region.orElse("us-east-1"))), endpoint).build();
    // Savings Plans has one global endpoint per partition (savingsplans.amazonaws.com), signed for us-east-1 in the commercial one;
    // GovCloud and the isolated partitions have none.
    this.savingsPlans = endpoint.isPresent() || hasSavingsPlans(region.orElse("us-east-1"))
        ? Optional.of(configure(SavingsplansAsyncClient.builder(), Optional.of(pricingRegion(region.orElse("us-east-1"))), endpoint).build())
        : Optional.empty();
  }

  /** Whether the Region's partition has a Savings Plans endpoint (not GovCloud, not the isolated partitions). */
  static boolean hasSavingsPlans(String region) {
    return !region.startsWith("us-gov-") && !region.contains("-iso");
  }

  /** The Price List API answers in a few Regions only; us-east-1 serves the commercial partition, Ningxia China's. */
  static String pricingRegion(String region) {
    return region.startsWith("cn-") ? "cn-northwest-1" : "us-east-1";
  }

  private <B extends AwsAsyncClientBuilder<B, ?> & AwsClientBuilder<B, ?>> B configure(B builder, Optional<String> region, Optional<URI> endpoint) {
    builder.httpClient(http).overrideConfiguration(o -> o.retryStrategy(RetryMode.ADAPTIVE_V2));
    region.map(Region::of).ifPresent(builder::region);
    endpoint.ifPresent(builder::endpointOverride);
    return builder;
  }

  public Ec2AsyncClient ec2() {
    return ec2;
  }

  public SsmAsyncClient ssm() {
    return ssm;
  }

  public IamAsyncClient iam() {
    return iam;
  }

  public PricingAsyncClient pricing() {
    return pricing;
  }

  /** Empty in a partition without a Savings Plans endpoint. */
  public Optional<SavingsplansAsyncClient> savingsPlans() {
    return savingsPlans;
  }

  @Override
  public void close() {
    ec2.close();
    ssm.close();
    iam.close();
    pricing.close();
    savingsPlans.ifPresent(c -> c.close());
    http.close();
  }
}
