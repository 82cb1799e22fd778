package dev.dovetail.provisioner.cloud.aws;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.aws.v1.EC2NodeClassSpec;
import dev.dovetail.api.aws.v1.EC2NodeClassStatus;
import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.karpenter.v1.WellKnownTaints;
import dev.dovetail.api.scheduling.InstanceOption;
import dev.dovetail.api.scheduling.Requirements;
import dev.dovetail.api.scheduling.Resources;
import dev.dovetail.provisioner.cloud.CloudProviderException;
import dev.dovetail.provisioner.cloud.Instance;
import dev.dovetail.provisioner.cloud.InstanceOptionCache;
import dev.dovetail.provisioner.cloud.LaunchPlan;
import dev.dovetail.provisioner.cloud.aws.AwsCloudProvider.Settings;
import dev.dovetail.runtime.Failures;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.ec2.model.SpotAllocationStrategy;

/**
 * A NodeClaim launched as an instant EC2 Fleet of one instance over the cheapest compatible type x zone
 * pools of one capacity type, with a client token from the NodeClaim's UID and the NodeClaim named in a
 * tag, so neither a retried call nor a restarted provisioner launches twice (a tagged instance found
 * first is adopted). Pools that report no capacity are kept out of simulations for three minutes and the
 * launch is tried once more without them; reserved pools launch into a capacity reservation with room.
 */
final class FleetLauncher {
  private static final Logger LOG = LoggerFactory.getLogger(FleetLauncher.class);
  /** One-pool calls on committed capacity that may find no capacity in one launch before such misses count as attempts. */
  private static final int MAX_COMMITTED_MISSES = 8;
  private final AwsClients aws;
  private final Settings settings;
  private final InstanceOptionCache options;
  private final LaunchTemplates templates;
  private final CapacityReservations reservations;
  private final Commitments commitments;
  private final Instances instances;
  private final Clock clock;

  FleetLauncher(AwsClients aws, Settings settings, InstanceOptionCache options, LaunchTemplates templates, CapacityReservations reservations,
      Commitments commitments, Instances instances, Clock clock) {
    this.aws = aws;
    this.commitments = commitments;
    this.settings = settings;
    this.options = options;
    this.templates = templates;
    this.reservations = reservations;
    this.instances = instances;
    this.clock = clock;
  }

  private void markUnavailable(String instanceType, String zone, String capacityType) {
    options.unavailable().mark(instanceType, zone, capacityType);
  }

  CompletionStage<Instance> create(NodeClaim claim, EC2NodeClass nodeClass) {
    // A launch made before a restart (or by a call whose answer was lost) is found by its tag first.
    return instances.ofClaim(claim.getMetadata().getName()).thenCompose(existing -> {
      if (existing.isPresent()) {
        LOG.info("NodeClaim {} already has instance {} (its launch was not recorded): adopting it", claim.getMetadata().getName(),
            existing.get().instanceId());
        return CompletableFuture.completedFuture(existing.get());
      }
      return launch(claim, nodeClass, 1, 0);
    });
  }

  /**
   * Fleet call shapes (overrides, capacity type, strategy; no token or tags) by the claim's requirements
   * and requests, per instance-option list: a burst of like claims plans once. A new option list (an
   * offering became unavailable or available again) starts afresh.
   */
  private final Cache<List<InstanceOption>, Cache<ShapeKey, ShapeValue>> shapes =
      Caffeine.newBuilder().weakKeys().maximumSize(16).build();

  private record ShapeKey(Requirements requirements, Resources requests,
      Map<String, String> subnets, Map<String, String> images, SpotAllocationStrategy strategy, String template) {
  }

  private record ShapeValue(LaunchPlan plan, Optional<Fleets.Call> call) {
  }

  private ShapeValue shape(NodeClaim claim, List<InstanceOption> optionList, Map<String, String> subnets, Map<String, String> images,
      SpotAllocationStrategy strategy, String template) {
    LaunchPlan probe = LaunchPlan.requirementsOf(claim);
    ShapeKey key = new ShapeKey(probe.requirements(), probe.requests(), subnets, images, strategy, template);
    return shapes.get(optionList, l -> Caffeine.newBuilder().maximumSize(256).<ShapeKey, ShapeValue>build())
        .get(key, k -> {
          LaunchPlan plan = LaunchPlan.of(claim, optionList);
          return new ShapeValue(plan, Fleets.call(plan, null, template, subnets, images, strategy, false, Map.of()));
        });
  }

  /**
   * One launch attempt (of two: the second without the pools the first found no capacity in).
   *
   * @param committedMisses one-pool calls on committed capacity that found no capacity so far in this launch: they
   *                        do not count as attempts (the pool is marked unavailable and the launch goes on), but
   *                        each needs its own client token
   */
  private CompletableFuture<Instance> launch(NodeClaim claim, EC2NodeClass nodeClass, int attempt, int committedMisses) {
    List<InstanceOption> optionList = options.optionsFor(nodeClass);
    EC2NodeClassStatus status = nodeClass.getStatus();
    if (status == null || status.subnets() == null || status.subnets().isEmpty() || status.amis() == null || status.amis().isEmpty()) {
      return CompletableFuture.failedFuture(new CloudProviderException.LaunchFailed("EC2NodeClass " + nodeClass.getMetadata().getName()
          + " has no resolved subnets or AMIs yet", null));
    }
    Map<String, String> subnets = new TreeMap<>();
    status.subnets().forEach(s -> subnets.putIfAbsent(s.zone(), s.id()));
    Map<String, String> images = new TreeMap<>();
    status.amis().forEach(a -> a.requirements().stream().filter(r -> WellKnownLabels.ARCH.equals(r.key()) && r.values() != null)
        .flatMap(r -> r.values().stream()).forEach(arch -> images.putIfAbsent(arch, a.id())));
    Map<String, String> tags = tags(claim, nodeClass);
    String userData = UserData.render(nodeClass.getSpec().amiFamily() == null ? EC2NodeClassSpec.AmiFamily.AL2023 : nodeClass.getSpec().amiFamily(),
        settings.cluster(), nodeClass.getSpec().kubelet(), nodeLabels(claim), registerTaints(claim), nodeClass.getSpec().userData());
    LaunchTemplates.Content content = LaunchTemplates.content(nodeClass, userData, templateTags(nodeClass));
    String token = claim.getMetadata().getUid() == null ? null
        : claim.getMetadata().getUid() + "-" + attempt + (committedMisses > 0 ? "-c" + committedMisses : "");
    return templates.ensure(content).toCompletableFuture().thenCompose(template -> {
      ShapeValue shape = shape(claim, optionList, subnets, images, spotStrategy(claim), template);
      LaunchPlan plan = shape.plan();
      Optional<Fleets.Call> call = shape.call().map(c -> Fleets.forClaim(c, token, tags));
      if (call.isEmpty()) {
        return CompletableFuture.failedFuture(new CloudProviderException.InsufficientCapacity("no instance type in the claim's requirements has an "
            + "available offering in the class's subnets that fits its requests " + plan.requests().amounts()));
      }
      return reserve(call.get(), nodeClass, content).thenCompose(sent -> sent.call().byPool().isEmpty() ? launch(claim, nodeClass, attempt, committedMisses)
          : aws.ec2().createFleet(sent.call().request()).handle((response, error) -> {
          // A launch on committed capacity counts its instance against the commitment at once, or gives the room back.
          sent.grant().ifPresent(g -> commitments.settle(g, error != null ? Optional.empty()
              : Fleets.read(response).launched().map(Fleets.Launched::instanceId)));
          if (error != null) {
            if (AwsErrors.launchTemplateNotFound(error) && attempt == 1) {
              templates.forget(template);
              sent.call().request().launchTemplateConfigs().forEach(c -> templates.forget(c.launchTemplateSpecification().launchTemplateName()));
              return launch(claim, nodeClass, attempt + 1, committedMisses);
            }
            return CompletableFuture.<Instance>failedFuture(new CloudProviderException.LaunchFailed("CreateFleet failed: "
                + Failures.cause(error).getMessage(), Failures.cause(error)));
          }
          Fleets.Result result = Fleets.read(response);
          for (Fleets.PoolError e : result.errors()) {
            if (e.unavailable()) {
              // EC2 reports a reserved launch's lifecycle as on-demand: the pool that failed is the reserved one.
              markUnavailable(e.instanceType(), e.zone(), sent.call().capacityType() == CapacityType.RESERVED || e.capacityType() == null
                  ? sent.call().capacityType().label() : e.capacityType());
            }
            if (CapacityReservations.EXCEEDED.equals(e.code())) {
              Optional.ofNullable(sent.reservations().get(Fleets.pool(e.instanceType(), e.zone()))).ifPresent(reservations::exhausted);
            }
          }
          if (result.launched().isPresent()) {
            Fleets.Launched l = result.launched().get();
            LaunchPlan.Candidate won = sent.call().byPool().get(Fleets.pool(l.instanceType(), l.zone()));
            if (won == null) {
              won = sent.call().byPool().values().stream().filter(c -> c.option().name().equals(l.instanceType())).findFirst()
                  .orElse(sent.call().byPool().values().iterator().next());
            }
            Instance instance = Instance.launched(l.instanceId(), claim.getMetadata().getName(), won, images.get(Fleets.arch(won.option())), clock.instant());
            String reservation = sent.reservations().get(Fleets.pool(won.option().name(), won.offering().zone()));
            if (reservation != null) {
              reservations.launched(reservation);
              instance = Instances.inReservation(instance, reservation);
            }
            LOG.info("launched {} ({} {} {}) for NodeClaim {}", l.instanceId(), instance.instanceType(), instance.zone(), instance.capacityType().label(),
                claim.getMetadata().getName());
            return CompletableFuture.completedFuture(instance);
          }
          String why = result.errors().stream().map(e -> e.instanceType() + "/" + e.zone() + ": " + e.code()).distinct().limit(5)
              .collect(Collectors.joining(", "));
          if (sent.grant().isPresent() && !result.errors().isEmpty() && result.errors().stream().allMatch(Fleets.PoolError::unavailable)
              && committedMisses < MAX_COMMITTED_MISSES) {
            // One committed pool had no capacity: its room went back and it is marked unavailable; the launch goes on
            // (over the other pools, committed or not) without spending an attempt.
            LOG.atInfo().addKeyValue("nodeClaim", claim.getMetadata().getName()).addKeyValue("pools", why)
                .log("no capacity on committed capacity for NodeClaim {} ({}); trying the other offerings", claim.getMetadata().getName(), why);
            return launch(claim, nodeClass, attempt, committedMisses + 1);
          }
          if (attempt == 1 && result.errors().stream().anyMatch(Fleets.PoolError::unavailable)) {
            LOG.info("no capacity for NodeClaim {} ({}); trying the remaining offerings", claim.getMetadata().getName(), why);
            return launch(claim, nodeClass, attempt + 1, committedMisses);
          }
          boolean capacity = result.errors().isEmpty() || result.errors().stream().allMatch(Fleets.PoolError::unavailable);
          return CompletableFuture.<Instance>failedFuture(capacity ? new CloudProviderException.InsufficientCapacity("CreateFleet launched nothing: " + why)
              : new CloudProviderException.LaunchFailed("CreateFleet launched nothing: " + why, null));
        }).thenCompose(f -> f));
    });
  }

  /**
   * A Fleet call ready to send, the reservation each reserved pool in it launches into, and the room a call on
   * committed capacity took.
   */
  private record Sent(Fleets.Call call, Map<String, String> reservations, Optional<Commitments.Grant> grant) {
    Sent(Fleets.Call call, Map<String, String> reservations) {
      this(call, reservations, Optional.empty());
    }
  }

  /**
   * A call on committed capacity (one pool) takes room in the commitment first, under its lock; when the
   * commitment has none left (parallel launches took it), the call goes empty and the launch is planned again,
   * when the offering is no longer committed.
   */
  private Sent commit(Fleets.Call call) {
    if (call.capacityType() != CapacityType.ON_DEMAND || call.byPool().size() != 1
        || !call.byPool().values().iterator().next().offering().committed()) {
      return new Sent(call, Map.of());
    }
    LaunchPlan.Candidate c = call.byPool().values().iterator().next();
    double onDemand = c.option().offerings().stream().filter(o -> o.capacityType() == CapacityType.ON_DEMAND && !o.committed()
        && o.zone().equals(c.offering().zone())).mapToDouble(o -> o.pricePerHour()).findFirst().orElse(c.offering().pricePerHour());
    Optional<Commitments.Grant> grant = commitments.take(c.option().name(), c.offering().zone(), onDemand);
    if (grant.isEmpty()) {
      LOG.info("no commitment has room for {} in {} any more: planning the launch again", c.option().name(), c.offering().zone());
      return new Sent(new Fleets.Call(call.capacityType(), Map.of(), call.request()), Map.of());
    }
    return new Sent(call, Map.of(), grant);
  }

  /**
   * A reserved call launches each pool into a reservation of the class with room, through a launch
   * template naming it; pools none has room in are marked unavailable (the call comes back empty and the
   * launch is planned again without them). Other calls go as they are.
   */
  private CompletableFuture<Sent> reserve(Fleets.Call call, EC2NodeClass nodeClass, LaunchTemplates.Content content) {
    if (call.capacityType() != CapacityType.RESERVED) {
      return CompletableFuture.completedFuture(commit(call));
    }
    Map<String, String> reservationOf = new LinkedHashMap<>();
    call.byPool().forEach((pool, c) -> reservations.pick(nodeClass, c.option().name(), c.offering().zone()).ifPresentOrElse(
        id -> reservationOf.put(pool, id),
        () -> markUnavailable(c.option().name(), c.offering().zone(), CapacityType.RESERVED.label())));
    Map<String, CompletableFuture<String>> templateOf = new LinkedHashMap<>();
    reservationOf.values().stream().distinct().forEach(id -> templateOf.put(id, templates.ensure(content.inReservation(id)).toCompletableFuture()));
    return CompletableFuture.allOf(templateOf.values().toArray(CompletableFuture[]::new)).thenApply(done ->
        new Sent(Fleets.withTemplates(call, pool -> Optional.ofNullable(reservationOf.get(pool)).map(id -> templateOf.get(id).join())), reservationOf));
  }

  /** The workload's strategy, when the provisioner recorded one on the claim (F8); else the configured default. */
  SpotAllocationStrategy spotStrategy(NodeClaim claim) {
    String strategy = claim.getMetadata().getAnnotations() == null ? null : claim.getMetadata().getAnnotations().get(DovetailLabels.SPOT_STRATEGY);
    if ("CostOptimized".equals(strategy)) {
      return SpotAllocationStrategy.LOWEST_PRICE;
    }
    if ("LeastInterrupted".equals(strategy)) {
      return SpotAllocationStrategy.CAPACITY_OPTIMIZED;
    }
    return settings.spotStrategy();
  }

  /** Tags on the instance, its volumes and the fleet: Karpenter's, the cluster's, ours and the class's own. */
  Map<String, String> tags(NodeClaim claim, EC2NodeClass nodeClass) {
    Map<String, String> tags = new TreeMap<>();
    if (nodeClass.getSpec().tags() != null) {
      tags.putAll(nodeClass.getSpec().tags());
    }
    Map<String, String> labels = claim.getMetadata().getLabels() == null ? Map.of() : claim.getMetadata().getLabels();
    tags.put(AwsCloudProvider.NODECLAIM_TAG, claim.getMetadata().getName());
    tags.put(AwsCloudProvider.NODEPOOL_TAG, labels.getOrDefault(WellKnownLabels.NODEPOOL, ""));
    tags.put(AwsCloudProvider.NODECLASS_TAG, nodeClass.getMetadata().getName());
    tags.put("kubernetes.io/cluster/" + settings.clusterName(), "owned");
    tags.put("eks:eks-cluster-name", settings.clusterName());
    tags.put(AwsCloudProvider.OWNER_TAG, settings.clusterName());
    tags.putIfAbsent("Name", labels.getOrDefault(WellKnownLabels.NODEPOOL, "dovetail") + "/" + claim.getMetadata().getName());
    return tags;
  }

  private Map<String, String> templateTags(EC2NodeClass nodeClass) {
    Map<String, String> tags = new TreeMap<>();
    tags.put(AwsCloudProvider.OWNER_TAG, settings.clusterName());
    tags.put(AwsCloudProvider.NODECLASS_TAG, nodeClass.getMetadata().getName());
    return tags;
  }

  /** The labels the kubelet registers with: the claim's, except the ones only the provisioner may set. */
  private static Map<String, String> nodeLabels(NodeClaim claim) {
    Map<String, String> labels = new TreeMap<>(claim.getMetadata().getLabels() == null ? Map.of() : claim.getMetadata().getLabels());
    labels.remove(WellKnownLabels.HOSTNAME);
    labels.keySet().removeIf(k -> k.startsWith("kubernetes.io/") || k.startsWith("k8s.io/"));
    return labels;
  }

  private static List<String> registerTaints(NodeClaim claim) {
    List<String> taints = new ArrayList<>();
    var spec = claim.getSpec();
    if (spec.taints() != null) {
      spec.taints().forEach(t -> taints.add(t.key() + (t.value() == null ? "" : "=" + t.value()) + ":" + t.effect().name()));
    }
    if (spec.startupTaints() != null) {
      spec.startupTaints().forEach(t -> taints.add(t.key() + (t.value() == null ? "" : "=" + t.value()) + ":" + t.effect().name()));
    }
    taints.add(WellKnownTaints.UNREGISTERED + ":NoExecute");
    return taints;
  }
}
