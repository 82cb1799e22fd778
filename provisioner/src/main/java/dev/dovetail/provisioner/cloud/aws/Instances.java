package dev.dovetail.provisioner.cloud.aws;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.scheduling.InstanceOption;
import dev.dovetail.api.scheduling.InstanceOptions;
import dev.dovetail.api.scheduling.Offering;
import dev.dovetail.api.scheduling.Resources;
import dev.dovetail.provisioner.cloud.CloudProviderException;
import dev.dovetail.provisioner.cloud.Instance;
import dev.dovetail.provisioner.cloud.LaunchPlan;
import dev.dovetail.provisioner.cloud.ProviderId;
import dev.dovetail.provisioner.cloud.aws.AwsCloudProvider.Settings;
import dev.dovetail.runtime.Failures;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.ec2.model.DescribeInstancesRequest;
import software.amazon.awssdk.services.ec2.model.DescribeInstancesResponse;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.InstanceStateName;

/**
 * The cluster's EC2 instances as the provisioner knows them: found by instance ID or by the tags a launch
 * puts on them (the NodeClaim's name, the cluster's owner tag; tag lookups batched), described with their
 * type's capacity and labels and their current price, and terminated. An instance that is gone answers
 * {@link CloudProviderException.NotFound}.
 */
final class Instances {
  /** The instance states of instances that still count as ours (Karpenter's List set). */
  static final List<String> LIVE_STATES = List.of("pending", "running", "stopping", "stopped", "shutting-down");
  private static final Logger LOG = LoggerFactory.getLogger(Instances.class);
  private final AwsClients aws;
  private final Settings settings;
  private final Supplier<Catalog> catalog;
  private final ClaimLookups lookups;
  /** Every type of the current catalog as an option, for describing instances; rebuilt when the catalog is. */
  private final AtomicReference<Map.Entry<Catalog, Map<String, InstanceOption>>> byType = new AtomicReference<>();

  Instances(AwsClients aws, Settings settings, Supplier<Catalog> catalog) {
    this.aws = aws;
    this.settings = settings;
    this.catalog = catalog;
    this.lookups = new ClaimLookups(this::ofClaims);
  }

  private Map<String, InstanceOption> byType() {
    Catalog current = catalog.get();
    var cached = byType.get();
    if (cached != null && cached.getKey() == current) {
      return cached.getValue();
    }
    Set<String> zones = current.all().stream().flatMap(t -> t.zones().stream()).collect(Collectors.toSet());
    Map<String, InstanceOption> map = InstanceOptions.from(current, zones, OptionalInt.empty(), (t, o) -> false).stream()
        .collect(Collectors.toMap(InstanceOption::name, Function.identity(), (a, b) -> a));
    byType.set(Map.entry(current, map));
    return map;
  }

  /** An instance launched into a reservation, with Karpenter's reservation labels. */
  static Instance inReservation(Instance i, String reservationId) {
    Map<String, String> labels = new TreeMap<>(i.labels());
    labels.put(AwsCloudProvider.RESERVATION_ID_LABEL, reservationId);
    labels.put(AwsCloudProvider.RESERVATION_TYPE_LABEL, "default");
    return new Instance(i.providerId(), i.nodeClaim(), i.instanceType(), i.zone(), CapacityType.RESERVED, i.pricePerHour(), i.capacity(),
        i.allocatable(), i.imageId(), labels, i.launchedAt());
  }

  CompletionStage<Void> delete(NodeClaim claim) {
    String providerId = claim.getStatus() == null ? null : claim.getStatus().providerID();
    CompletionStage<Optional<Instance>> target = providerId != null ? get(providerId).thenApply(Optional::of).exceptionally(e -> {
      if (Failures.cause(e) instanceof CloudProviderException.NotFound) {
        return Optional.empty();
      }
      throw new CompletionException(Failures.cause(e));
    }) : ofClaim(claim.getMetadata().getName());
    return target.thenCompose(instance -> {
      if (instance.isEmpty()) {
        return CompletableFuture.failedFuture(new CloudProviderException.NotFound("no instance for NodeClaim " + claim.getMetadata().getName()));
      }
      String id = instance.get().instanceId();
      return aws.ec2().terminateInstances(r -> r.instanceIds(id)).handle((ok, error) -> {
        if (error != null) {
          throw AwsErrors.translate(error, id);
        }
        LOG.info("terminating {} of NodeClaim {}", id, claim.getMetadata().getName());
        return null;
      });
    });
  }

  CompletionStage<Instance> get(String providerId) {
    String id = ProviderId.instanceIdOf(providerId);
    return aws.ec2().describeInstances(r -> r.instanceIds(id)).handle((response, error) -> {
      if (error != null) {
        throw AwsErrors.translate(error, id);
      }
      return instances(response).stream().findFirst()
          .orElseThrow(() -> new CloudProviderException.NotFound("instance " + id + " is terminated"));
    });
  }

  CompletionStage<List<Instance>> list() {
    return listPages(DescribeInstancesRequest.builder().filters(owned()).maxResults(1000), null, new ArrayList<>());
  }

  private CompletableFuture<List<Instance>> listPages(DescribeInstancesRequest.Builder request, String token, List<Instance> into) {
    return aws.ec2().describeInstances(request.nextToken(token).build()).thenCompose(response -> {
      into.addAll(instances(response));
      return response.nextToken() == null || response.nextToken().isEmpty() ? CompletableFuture.completedFuture(List.copyOf(into))
          : listPages(request, response.nextToken(), into);
    });
  }

  private List<Filter> owned() {
    return List.of(Selectors.filter("tag:" + AwsCloudProvider.OWNER_TAG, settings.clusterName()), Selectors.filter("tag-key", AwsCloudProvider.NODECLAIM_TAG),
        Selectors.filter("instance-state-name", LIVE_STATES.toArray(String[]::new)));
  }

  /** The live instance launched for a claim, if any (found by its tag). */
  CompletableFuture<Optional<Instance>> ofClaim(String claimName) {
    return lookups.of(claimName);
  }

  /** The live instances of these claims, by claim name (one DescribeInstances; a filter takes up to 200 values). */
  private CompletableFuture<Map<String, Instance>> ofClaims(List<String> claimNames) {
    List<Filter> filters = new ArrayList<>(owned());
    filters.add(Filter.builder().name("tag:" + AwsCloudProvider.NODECLAIM_TAG).values(claimNames).build());
    return listPages(DescribeInstancesRequest.builder().filters(filters), null, new ArrayList<>()).thenApply(found -> {
      Map<String, Instance> byClaim = new HashMap<>();
      found.forEach(i -> byClaim.putIfAbsent(i.nodeClaim(), i));
      return byClaim;
    });
  }

  /** Live instances of a describe answer, as the provisioner knows instances. */
  private List<Instance> instances(DescribeInstancesResponse response) {
    List<Instance> out = new ArrayList<>();
    Map<String, InstanceOption> byType = byType();
    Catalog prices = catalog.get();
    response.reservations().forEach(res -> res.instances().forEach(i -> {
      InstanceStateName state = i.state() == null ? null : i.state().name();
      if (state == InstanceStateName.TERMINATED || state == InstanceStateName.SHUTTING_DOWN) {
        return;
      }
      String zone = i.placement() == null ? "" : i.placement().availabilityZone();
      CapacityType type = "spot".equals(i.instanceLifecycleAsString()) ? CapacityType.SPOT
          : i.capacityReservationId() != null ? CapacityType.RESERVED : CapacityType.ON_DEMAND;
      String claim = i.tags().stream().filter(t -> AwsCloudProvider.NODECLAIM_TAG.equals(t.key())).map(t -> t.value()).findFirst().orElse("");
      InstanceOption option = byType.get(i.instanceTypeAsString());
      Instant launched = i.launchTime() == null ? Instant.EPOCH : i.launchTime();
      if (option == null) {
        out.add(new Instance(Instance.providerId(zone, i.instanceId()), claim, i.instanceTypeAsString(), zone, type, Double.NaN,
            Resources.NONE, Resources.NONE, i.imageId(), Map.of(), launched));
        return;
      }
      double price = prices.get(option.name()).map(t -> t.pricePerHour(type, zone)).orElse(Double.NaN);
      Offering offering = new Offering(zone, type, price, true);
      Instance instance = Instance.launched(i.instanceId(), claim, new LaunchPlan.Candidate(option, offering), i.imageId(), launched);
      out.add(type == CapacityType.RESERVED ? inReservation(instance, i.capacityReservationId()) : instance);
    }));
    return out;
  }
}
