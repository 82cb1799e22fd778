package dev.dovetail.provisioner.cloud.aws;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.dovetail.api.aws.v1.BlockDeviceMapping;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.aws.v1.EC2NodeClassSpec;
import dev.dovetail.api.aws.v1.EC2NodeClassStatus;
import dev.dovetail.api.aws.v1.MetadataOptions;
import dev.dovetail.api.drift.Hashes;
import dev.dovetail.runtime.Failures;
import io.fabric8.kubernetes.api.model.Quantity;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.ec2.Ec2AsyncClient;
import software.amazon.awssdk.services.ec2.model.LaunchTemplateBlockDeviceMappingRequest;
import software.amazon.awssdk.services.ec2.model.LaunchTemplateHttpTokensState;
import software.amazon.awssdk.services.ec2.model.LaunchTemplateInstanceMetadataEndpointState;
import software.amazon.awssdk.services.ec2.model.LaunchTemplateInstanceMetadataProtocolIpv6;
import software.amazon.awssdk.services.ec2.model.RequestLaunchTemplateData;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.Tag;

/**
 * Launch templates, one per distinct launch configuration (node class parts, the node's labels and
 * taints, the cluster it joins), named by a hash of that configuration so equal configurations share
 * one and a changed one gets a new one. Created on first use, remembered, found again after a restart
 * (an existing name is adopted), recreated when EC2 reports it missing.
 */
final class LaunchTemplates {
  static final String PREFIX = "dovetail/";

  private static final Logger LOG = LoggerFactory.getLogger(LaunchTemplates.class);
  private final Ec2AsyncClient ec2;
  private final String clusterName;
  /** Templates used within the last hour: they exist, and garbage collection leaves them alone. */
  private final Cache<String, Boolean> known = Caffeine.newBuilder().expireAfterAccess(Duration.ofHours(1)).build();

  LaunchTemplates(Ec2AsyncClient ec2, String clusterName) {
    this.ec2 = ec2;
    this.clusterName = clusterName;
  }

  /** What a template holds. */
  record Content(String instanceProfile, List<String> securityGroups, String userData, MetadataOptions metadata,
      List<BlockDeviceMapping> blockDevices, Boolean detailedMonitoring, Map<String, String> tags, String capacityReservationId) {
    String name(String clusterName) {
      // The hash leaves nulls out: templates without a reservation keep the names they had before reservations existed.
      return PREFIX + clusterName + "/" + Hashes.of(this);
    }

    /** The same template launching into one capacity reservation (EC2 Fleet names a reservation only through its template). */
    Content inReservation(String id) {
      return new Content(instanceProfile, securityGroups, userData, metadata, blockDevices, detailedMonitoring, tags, id);
    }
  }

  static Content content(EC2NodeClass nodeClass, String userData, Map<String, String> tags) {
    EC2NodeClassSpec spec = nodeClass.getSpec();
    EC2NodeClassStatus status = nodeClass.getStatus();
    List<String> groups = status == null || status.securityGroups() == null ? List.of()
        : status.securityGroups().stream().map(EC2NodeClassStatus.SecurityGroup::id).sorted().toList();
    return new Content(status == null ? null : status.instanceProfile(), groups, userData, spec.metadataOptions(), spec.blockDeviceMappings(),
        spec.detailedMonitoring(), tags, null);
  }

  /** The template's name once it exists. */
  CompletionStage<String> ensure(Content content) {
    String name = content.name(clusterName);
    if (known.getIfPresent(name) != null) {
      return CompletableFuture.completedFuture(name);
    }
    return ec2.describeLaunchTemplates(r -> r.launchTemplateNames(name)).handle((found, error) -> {
      if (error == null && !found.launchTemplates().isEmpty()) {
        return CompletableFuture.completedFuture(name);
      }
      if (error != null && !AwsErrors.launchTemplateNotFound(error)) {
        return CompletableFuture.<String>failedFuture(error);
      }
      return create(name, content);
    }).thenCompose(f -> f).thenApply(n -> {
      known.put(n, Boolean.TRUE);
      return n;
    });
  }

  /** Whether this process used the template within the last hour. */
  boolean recentlyUsed(String name) {
    return known.getIfPresent(name) != null;
  }

  /** EC2 said the template is gone: create it again on next use. */
  void forget(String name) {
    known.invalidate(name);
  }

  private CompletionStage<String> create(String name, Content content) {
    MetadataOptions m = content.metadata();
    RequestLaunchTemplateData.Builder data = RequestLaunchTemplateData.builder()
        .userData(content.userData() == null || content.userData().isEmpty() ? null : UserData.base64(content.userData()))
        .securityGroupIds(content.securityGroups())
        .monitoring(mon -> mon.enabled(Boolean.TRUE.equals(content.detailedMonitoring())))
        // IMDSv2 only unless the class says otherwise; hop limit 1 unless raised for pods that need IMDS.
        .metadataOptions(o -> o
            .httpTokens(m != null && m.httpTokens() == MetadataOptions.Tokens.OPTIONAL ? LaunchTemplateHttpTokensState.OPTIONAL
                : LaunchTemplateHttpTokensState.REQUIRED)
            .httpEndpoint(m != null && m.httpEndpoint() == MetadataOptions.Toggle.DISABLED ? LaunchTemplateInstanceMetadataEndpointState.DISABLED
                : LaunchTemplateInstanceMetadataEndpointState.ENABLED)
            .httpProtocolIpv6(m != null && m.httpProtocolIPv6() == MetadataOptions.Toggle.ENABLED ? LaunchTemplateInstanceMetadataProtocolIpv6.ENABLED
                : LaunchTemplateInstanceMetadataProtocolIpv6.DISABLED)
            .httpPutResponseHopLimit(m == null || m.httpPutResponseHopLimit() == null ? 1 : m.httpPutResponseHopLimit().intValue()));
    if (content.instanceProfile() != null) {
      data.iamInstanceProfile(p -> p.name(content.instanceProfile()));
    }
    if (content.capacityReservationId() != null) {
      data.capacityReservationSpecification(c -> c.capacityReservationTarget(t -> t.capacityReservationId(content.capacityReservationId())));
    }
    if (content.blockDevices() != null && !content.blockDevices().isEmpty()) {
      data.blockDeviceMappings(blockDevices(content.blockDevices()));
    }
    List<Tag> tags = content.tags().entrySet().stream().map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList();
    return ec2.createLaunchTemplate(r -> r.launchTemplateName(name).launchTemplateData(data.build())
            .tagSpecifications(t -> t.resourceType(ResourceType.LAUNCH_TEMPLATE).tags(tags)))
        .handle((created, error) -> {
          if (error != null && !AwsErrors.launchTemplateExists(error)) {
            throw new CompletionException(Failures.cause(error));
          }
          return name;
        });
  }

  private static List<LaunchTemplateBlockDeviceMappingRequest> blockDevices(List<BlockDeviceMapping> mappings) {
    List<LaunchTemplateBlockDeviceMappingRequest> out = new ArrayList<>();
    for (BlockDeviceMapping b : mappings) {
      var ebs = b.ebs();
      out.add(LaunchTemplateBlockDeviceMappingRequest.builder().deviceName(b.deviceName()).ebs(e -> {
        if (ebs == null) {
          return;
        }
        e.deleteOnTermination(ebs.deleteOnTermination()).encrypted(ebs.encrypted()).kmsKeyId(ebs.kmsKeyID()).snapshotId(ebs.snapshotID())
            .iops(ebs.iops() == null ? null : ebs.iops().intValue()).throughput(ebs.throughput() == null ? null : ebs.throughput().intValue())
            .volumeType(ebs.volumeType() == null ? null : ebs.volumeType().name().toLowerCase(Locale.ROOT))
            .volumeSize(ebs.volumeSize() == null ? null : gibibytes(ebs.volumeSize()));
      }).build());
    }
    return out;
  }

  /** A Kubernetes quantity (20Gi, 100G) as whole GiB, rounded up. */
  static int gibibytes(String quantity) {
    BigDecimal bytes = Quantity.getAmountInBytes(new Quantity(quantity));
    return bytes.divide(BigDecimal.valueOf(1L << 30), 0, RoundingMode.CEILING).intValueExact();
  }

  /** Deletes this cluster's templates that no launch of this process used lately and that were made before {@code cutoff}. */
  CompletionStage<Void> collect(Instant cutoff) {
    return ec2.describeLaunchTemplates(r -> r.filters(Selectors.filter("tag:" + AwsCloudProvider.OWNER_TAG, clusterName)))
        .thenCompose(found -> CompletableFuture.allOf(found.launchTemplates().stream()
            .filter(t -> !recentlyUsed(t.launchTemplateName()) && t.createTime() != null && t.createTime().isBefore(cutoff))
            .map(t -> ec2.deleteLaunchTemplate(d -> d.launchTemplateName(t.launchTemplateName())).thenRun(() ->
                LOG.info("deleted launch template {}: unused since this process started or for an hour", t.launchTemplateName())))
            .toArray(CompletableFuture[]::new)));
  }
}
