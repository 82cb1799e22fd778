package dev.dovetail.provisioner.cloud.aws;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.aws.v1.AmiSelectorTerm;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.aws.v1.EC2NodeClassSpec;
import dev.dovetail.api.aws.v1.EC2NodeClassStatus;
import dev.dovetail.api.aws.v1.SecurityGroupSelectorTerm;
import dev.dovetail.api.aws.v1.SubnetSelectorTerm;
import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.InstanceOption;
import dev.dovetail.api.scheduling.InstanceOptions;
import dev.dovetail.api.scheduling.Offering;
import dev.dovetail.provisioner.cloud.CloudProvider;
import dev.dovetail.provisioner.cloud.CloudProviderException;
import dev.dovetail.provisioner.cloud.Instance;
import dev.dovetail.provisioner.cloud.InstanceOptionCache;
import dev.dovetail.provisioner.cloud.LaunchPlan;
import dev.dovetail.provisioner.cloud.NodeClassConditions;
import dev.dovetail.provisioner.cloud.UnavailableOfferings;
import dev.dovetail.runtime.Failures;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
import software.amazon.awssdk.services.ec2.model.DescribeImagesRequest;
import software.amazon.awssdk.services.ec2.model.DescribeInstancesRequest;
import software.amazon.awssdk.services.ec2.model.DescribeInstancesResponse;
import software.amazon.awssdk.services.ec2.model.Ec2Exception;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Image;
import software.amazon.awssdk.services.ec2.model.InstanceStateName;
import software.amazon.awssdk.services.ec2.model.SpotAllocationStrategy;
import software.amazon.awssdk.services.iam.model.NoSuchEntityException;
import software.amazon.awssdk.services.ssm.model.ParameterNotFoundException;

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
  /** The instance states of instances that still count as ours (Karpenter's List set). */
  static final List<String> LIVE_STATES = List.of("pending", "running", "stopping", "stopped", "shutting-down");

  /**
   * @param cluster           what nodes need to join the cluster (endpoint, CA, service CIDR)
   * @param kubernetesVersion minor version (1.34) for the AMI aliases' SSM parameters
   * @param spotStrategy      the spot allocation strategy when no distribution rule names one
   */
  public record Settings(String clusterName, UserData.Cluster cluster, String kubernetesVersion, SpotAllocationStrategy spotStrategy) {
  }

  private final AwsClients aws;
  private final Settings settings;
  private final Supplier<Catalog> catalog;
  private final InstanceOptionCache options;
  private final LaunchTemplates templates;
  private final CapacityReservations reservations;
  private final ClaimLookups lookups;
  private final Clock clock;
  /** Every type of the current catalog as an option, for describing instances; rebuilt when the catalog is. */
  private final AtomicReference<Map.Entry<Catalog, Map<String, InstanceOption>>> byType = new AtomicReference<>();

  public AwsCloudProvider(AwsClients aws, Settings settings, Catalog catalog, UnavailableOfferings unavailable, Clock clock) {
    this(aws, settings, () -> catalog, unavailable, clock);
  }

  /** @param catalog the current catalog, which {@link dev.dovetail.provisioner.pricing.AwsCatalog} refreshes */
  public AwsCloudProvider(AwsClients aws, Settings settings, Supplier<Catalog> catalog, UnavailableOfferings unavailable, Clock clock) {
    this.aws = aws;
    this.settings = settings;
    this.catalog = catalog;
    this.reservations = new CapacityReservations(aws.ec2());
    this.options = new InstanceOptionCache(catalog, unavailable, reservations::offerings);
    this.templates = new LaunchTemplates(aws.ec2(), settings.clusterName());
    this.lookups = new ClaimLookups(this::ofClaims);
    this.clock = clock;
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

  @Override
  public String name() {
    return "aws";
  }

  // --- node classes -----------------------------------------------------------------------------

  @Override
  public CompletionStage<EC2NodeClassStatus> resolve(EC2NodeClass nodeClass) {
    EC2NodeClassSpec spec = nodeClass.getSpec();
    long generation = nodeClass.getMetadata().getGeneration() == null ? 0 : nodeClass.getMetadata().getGeneration();
    CompletableFuture<List<EC2NodeClassStatus.Subnet>> subnets = subnets(spec.subnetSelectorTerms());
    CompletableFuture<List<EC2NodeClassStatus.SecurityGroup>> groups = securityGroups(spec.securityGroupSelectorTerms());
    CompletableFuture<List<EC2NodeClassStatus.Ami>> amis = amis(spec.amiSelectorTerms());
    CompletableFuture<Optional<String>> profile = instanceProfile(nodeClass);
    CompletableFuture<List<EC2NodeClassStatus.CapacityReservation>> reserved = reservations.resolve(spec.capacityReservationSelectorTerms());
    return CompletableFuture.allOf(subnets.exceptionally(e -> null), groups.exceptionally(e -> null), amis.exceptionally(e -> null),
        profile.exceptionally(e -> null), reserved.exceptionally(e -> null)).thenApply(ignored -> {
          Instant now = clock.instant();
          List<NodeClassConditions.Part> parts = new ArrayList<>();
          parts.add(part("SubnetsReady", "SubnetsNotFound", subnets, "no subnet matches subnetSelectorTerms"));
          parts.add(part("SecurityGroupsReady", "SecurityGroupsNotFound", groups, "no security group matches securityGroupSelectorTerms"));
          parts.add(part("AMIsReady", "AMINotFound", amis, "no AMI matches amiSelectorTerms"));
          parts.add(profile.isCompletedExceptionally() || profile.join().isEmpty()
              ? NodeClassConditions.Part.failed("InstanceProfileReady", "InstanceProfileNotFound", problem(profile, "no instance profile"))
              : NodeClassConditions.Part.ok("InstanceProfileReady"));
          if (spec.capacityReservationSelectorTerms() != null && !spec.capacityReservationSelectorTerms().isEmpty()) {
            // No reservation matching is not a fault (they come and go); failing to look is.
            parts.add(reserved.isCompletedExceptionally()
                ? NodeClassConditions.Part.failed("CapacityReservationsReady", "CapacityReservationsNotFound", problem(reserved, ""))
                : NodeClassConditions.Part.ok("CapacityReservationsReady"));
          }
          parts.add(NodeClassConditions.Part.ok("ValidationSucceeded"));
          return new EC2NodeClassStatus(orEmpty(subnets), orEmpty(groups), orEmpty(amis), orEmpty(reserved),
              profile.isCompletedExceptionally() ? null : profile.join().orElse(null), NodeClassConditions.of(generation, now, parts));
        });
  }

  private static <T> NodeClassConditions.Part part(String type, String reason, CompletableFuture<List<T>> found, String empty) {
    if (found.isCompletedExceptionally() || found.join().isEmpty()) {
      return NodeClassConditions.Part.failed(type, reason, problem(found, empty));
    }
    return NodeClassConditions.Part.ok(type);
  }

  private static String problem(CompletableFuture<?> f, String otherwise) {
    if (!f.isCompletedExceptionally()) {
      return otherwise;
    }
    try {
      f.join();
      return otherwise;
    } catch (CompletionException e) {
      return Failures.cause(e).getMessage();
    }
  }

  private static <T> List<T> orEmpty(CompletableFuture<List<T>> f) {
    return f.isCompletedExceptionally() ? List.of() : f.join();
  }

  private CompletableFuture<List<EC2NodeClassStatus.Subnet>> subnets(List<SubnetSelectorTerm> terms) {
    List<CompletableFuture<List<EC2NodeClassStatus.Subnet>>> calls = (terms == null ? List.<SubnetSelectorTerm>of() : terms).stream()
        .map(t -> aws.ec2().describeSubnets(r -> r.filters(Selectors.subnet(t))).thenApply(resp -> resp.subnets().stream()
            .map(s -> new EC2NodeClassStatus.Subnet(s.subnetId(), s.availabilityZone(), s.availabilityZoneId())).toList()))
        .toList();
    return union(calls, EC2NodeClassStatus.Subnet::id);
  }

  private CompletableFuture<List<EC2NodeClassStatus.SecurityGroup>> securityGroups(List<SecurityGroupSelectorTerm> terms) {
    List<CompletableFuture<List<EC2NodeClassStatus.SecurityGroup>>> calls = (terms == null ? List.<SecurityGroupSelectorTerm>of() : terms).stream()
        .map(t -> aws.ec2().describeSecurityGroups(r -> r.filters(Selectors.securityGroup(t))).thenApply(resp -> resp.securityGroups().stream()
            .map(g -> new EC2NodeClassStatus.SecurityGroup(g.groupId(), g.groupName())).toList()))
        .toList();
    return union(calls, EC2NodeClassStatus.SecurityGroup::id);
  }

  /** AMIs of every term; per architecture the newest wins (Karpenter orders by creation date). */
  private CompletableFuture<List<EC2NodeClassStatus.Ami>> amis(List<AmiSelectorTerm> terms) {
    List<CompletableFuture<List<Image>>> calls = new ArrayList<>();
    for (AmiSelectorTerm t : terms == null ? List.<AmiSelectorTerm>of() : terms) {
      if (t.alias() != null || t.ssmParameter() != null) {
        List<String> parameters = t.ssmParameter() != null ? List.of(t.ssmParameter())
            : List.of("amd64", "arm64").stream().map(arch -> Selectors.aliasParameter(t.alias(), settings.kubernetesVersion(), arch))
                .flatMap(Optional::stream).toList();
        for (String parameter : parameters) {
          calls.add(aws.ssm().getParameter(r -> r.name(parameter)).thenCompose(p -> images(DescribeImagesRequest.builder()
              .imageIds(p.parameter().value()).build())).exceptionally(e -> {
                if (Failures.cause(e) instanceof ParameterNotFoundException) {
                  return List.of();  // no AMI of that architecture for this version
                }
                throw new CompletionException(Failures.cause(e));
              }));
        }
      } else {
        DescribeImagesRequest.Builder r = DescribeImagesRequest.builder().filters(Selectors.image(t));
        List<String> owners = Selectors.owners(t);
        if (!owners.isEmpty()) {
          r.owners(owners);
        }
        calls.add(images(r.build()));
      }
    }
    return CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).thenApply(ignored -> {
      Map<String, Image> newest = new TreeMap<>();
      for (CompletableFuture<List<Image>> c : calls) {
        for (Image i : c.join()) {
          String arch = "arm64".equals(i.architectureAsString()) ? "arm64" : "amd64";
          Image current = newest.get(arch);
          if (current == null || String.valueOf(i.creationDate()).compareTo(String.valueOf(current.creationDate())) > 0) {
            newest.put(arch, i);
          }
        }
      }
      return newest.entrySet().stream().map(e -> new EC2NodeClassStatus.Ami(e.getValue().imageId(), e.getValue().name(), null,
          List.of(new EC2NodeClassStatus.AmiRequirement(WellKnownLabels.ARCH, "In", List.of(e.getKey()))))).toList();
    });
  }

  private CompletableFuture<List<Image>> images(DescribeImagesRequest request) {
    return aws.ec2().describeImages(request).thenApply(r -> r.images());
  }

  /**
   * The class's instance profile: {@code instanceProfile} as given (it must exist), or for {@code role}
   * one of ours, {@code <cluster>_<hash of the class name>}, created with the role in it if missing (and
   * given the role if it lacks it).
   */
  private CompletableFuture<Optional<String>> instanceProfile(EC2NodeClass nodeClass) {
    EC2NodeClassSpec spec = nodeClass.getSpec();
    if (spec.instanceProfile() != null) {
      return aws.iam().getInstanceProfile(r -> r.instanceProfileName(spec.instanceProfile())).thenApply(r -> Optional.of(spec.instanceProfile()));
    }
    if (spec.role() == null) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    // One profile per class (as Karpenter names them), so deleting a class never takes another class's profile.
    String name = settings.clusterName() + "_" + dev.dovetail.provisioner.drift.Hashes.of(Map.of("nodeClass", nodeClass.getMetadata().getName(),
        "cluster", settings.clusterName()));
    String role = spec.role().contains("/") ? spec.role().substring(spec.role().lastIndexOf('/') + 1) : spec.role();
    return aws.iam().getInstanceProfile(r -> r.instanceProfileName(name)).handle((found, error) -> {
      if (error == null) {
        if (found.instanceProfile().roles().stream().anyMatch(r -> r.roleName().equals(role))) {
          return CompletableFuture.completedFuture(Optional.of(name));
        }
        return aws.iam().addRoleToInstanceProfile(r -> r.instanceProfileName(name).roleName(role)).thenApply(x -> Optional.of(name));
      }
      if (!(Failures.cause(error) instanceof NoSuchEntityException)) {
        return CompletableFuture.<Optional<String>>failedFuture(Failures.cause(error));
      }
      return aws.iam().createInstanceProfile(r -> r.instanceProfileName(name).tags(
              software.amazon.awssdk.services.iam.model.Tag.builder().key(OWNER_TAG).value(settings.clusterName()).build(),
              software.amazon.awssdk.services.iam.model.Tag.builder().key(NODECLASS_TAG).value(nodeClass.getMetadata().getName()).build()))
          .thenCompose(x -> aws.iam().addRoleToInstanceProfile(r -> r.instanceProfileName(name).roleName(role)))
          .thenApply(x -> {
            LOG.info("created instance profile {} with role {} for EC2NodeClass {}", name, role, nodeClass.getMetadata().getName());
            return Optional.of(name);
          });
    }).thenCompose(f -> f);
  }

  private static <T> CompletableFuture<List<T>> union(List<CompletableFuture<List<T>>> calls, Function<T, String> id) {
    return CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).thenApply(ignored -> {
      Map<String, T> out = new LinkedHashMap<>();
      calls.forEach(c -> c.join().forEach(v -> out.putIfAbsent(id.apply(v), v)));
      return List.copyOf(out.values());
    });
  }

  /**
   * The class is gone: its launch templates (tagged with it) are deleted, and the instance profile made
   * for its role loses the role and is deleted; a profile named in {@code instanceProfile} is the user's.
   */
  @Override
  public CompletionStage<Void> cleanUp(EC2NodeClass nodeClass) {
    String name = nodeClass.getMetadata().getName();
    CompletableFuture<Void> templatesGone = aws.ec2().describeLaunchTemplates(r -> r.filters(Selectors.filter("tag:" + OWNER_TAG,
            settings.clusterName()), Selectors.filter("tag:" + NODECLASS_TAG, name)))
        .thenCompose(found -> CompletableFuture.allOf(found.launchTemplates().stream().map(t -> aws.ec2().deleteLaunchTemplate(d -> d
            .launchTemplateName(t.launchTemplateName())).thenRun(() -> {
              templates.forget(t.launchTemplateName());
              LOG.info("deleted launch template {} of EC2NodeClass {}", t.launchTemplateName(), name);
            })).toArray(CompletableFuture[]::new)));
    String profile = nodeClass.getStatus() == null ? null : nodeClass.getStatus().instanceProfile();
    if (nodeClass.getSpec().instanceProfile() != null || profile == null || !profile.startsWith(settings.clusterName() + "_")) {
      return templatesGone;
    }
    CompletableFuture<Void> profileGone = aws.iam().getInstanceProfile(r -> r.instanceProfileName(profile)).thenCompose(found ->
        CompletableFuture.allOf(found.instanceProfile().roles().stream().map(role -> aws.iam().removeRoleFromInstanceProfile(r -> r
            .instanceProfileName(profile).roleName(role.roleName()))).toArray(CompletableFuture[]::new)))
        .thenCompose(x -> aws.iam().deleteInstanceProfile(r -> r.instanceProfileName(profile)))
        .<Void>thenApply(x -> {
          LOG.info("deleted instance profile {} of EC2NodeClass {}", profile, name);
          return null;
        })
        .exceptionally(e -> {
          if (Failures.cause(e) instanceof NoSuchEntityException) {
            return null;  // already gone
          }
          throw new CompletionException(Failures.cause(e));
        });
    return CompletableFuture.allOf(templatesGone, profileGone);
  }

  /**
   * Launch templates of this cluster that no launch of this process used in the last hour and that are
   * older than {@code templateIdle} (a class changed, a pool went away, or the process restarted) are
   * deleted, as Karpenter lets its template cache expire; the next launch that needs one creates it again.
   */
  @Override
  public CompletionStage<Void> collectGarbage() {
    Instant cutoff = clock.instant().minus(templateIdle);
    return aws.ec2().describeLaunchTemplates(r -> r.filters(Selectors.filter("tag:" + OWNER_TAG, settings.clusterName())))
        .thenCompose(found -> CompletableFuture.allOf(found.launchTemplates().stream()
            .filter(t -> !templates.recentlyUsed(t.launchTemplateName()) && t.createTime() != null && t.createTime().isBefore(cutoff))
            .map(t -> aws.ec2().deleteLaunchTemplate(d -> d.launchTemplateName(t.launchTemplateName())).thenRun(() ->
                LOG.info("deleted launch template {}: unused since this process started or for an hour", t.launchTemplateName())))
            .toArray(CompletableFuture[]::new)));
  }

  private java.time.Duration templateIdle = java.time.Duration.ofHours(1);

  /** For tests: how old an unused template must be before it is collected. */
  void templateIdle(java.time.Duration idle) {
    this.templateIdle = idle;
  }

  // --- instance types -----------------------------------------------------------------------------

  @Override
  public CompletionStage<List<InstanceOption>> instanceOptions(EC2NodeClass nodeClass) {
    return CompletableFuture.completedFuture(options.optionsFor(nodeClass));
  }

  @Override
  public void markUnavailable(String instanceType, String zone, String capacityType) {
    options.unavailable().mark(instanceType, zone, capacityType);
  }

  // --- instances ----------------------------------------------------------------------------------

  @Override
  public CompletionStage<Instance> create(NodeClaim claim, EC2NodeClass nodeClass) {
    // A launch made before a restart (or by a call whose answer was lost) is found by its tag first.
    return ofClaim(claim.getMetadata().getName()).thenCompose(existing -> {
      if (existing.isPresent()) {
        LOG.info("NodeClaim {} already has instance {} (its launch was not recorded): adopting it", claim.getMetadata().getName(),
            existing.get().instanceId());
        return CompletableFuture.completedFuture(existing.get());
      }
      return launch(claim, nodeClass, 1);
    });
  }

  /**
   * Fleet call shapes (overrides, capacity type, strategy; no token or tags) by the claim's requirements
   * and requests, per instance-option list: a burst of like claims plans once. A new option list (an
   * offering became unavailable or available again) starts afresh.
   */
  private final com.github.benmanes.caffeine.cache.Cache<List<InstanceOption>, com.github.benmanes.caffeine.cache.Cache<ShapeKey, ShapeValue>> shapes =
      com.github.benmanes.caffeine.cache.Caffeine.newBuilder().weakKeys().maximumSize(16).build();

  private record ShapeKey(dev.dovetail.api.scheduling.Requirements requirements, dev.dovetail.api.scheduling.Resources requests,
      Map<String, String> subnets, Map<String, String> images, SpotAllocationStrategy strategy, String template) {
  }

  private record ShapeValue(LaunchPlan plan, Optional<Fleets.Call> call) {
  }

  private ShapeValue shape(NodeClaim claim, List<InstanceOption> optionList, Map<String, String> subnets, Map<String, String> images,
      SpotAllocationStrategy strategy, String template) {
    LaunchPlan probe = LaunchPlan.requirementsOf(claim);
    ShapeKey key = new ShapeKey(probe.requirements(), probe.requests(), subnets, images, strategy, template);
    return shapes.get(optionList, l -> com.github.benmanes.caffeine.cache.Caffeine.newBuilder().maximumSize(256).<ShapeKey, ShapeValue>build())
        .get(key, k -> {
          LaunchPlan plan = LaunchPlan.of(claim, optionList);
          return new ShapeValue(plan, Fleets.call(plan, null, template, subnets, images, strategy, false, Map.of()));
        });
  }

  private CompletableFuture<Instance> launch(NodeClaim claim, EC2NodeClass nodeClass, int attempt) {
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
    String token = claim.getMetadata().getUid() == null ? null : claim.getMetadata().getUid() + "-" + attempt;
    return templates.ensure(content).toCompletableFuture().thenCompose(template -> {
      ShapeValue shape = shape(claim, optionList, subnets, images, spotStrategy(claim), template);
      LaunchPlan plan = shape.plan();
      Optional<Fleets.Call> call = shape.call().map(c -> Fleets.forClaim(c, token, tags));
      if (call.isEmpty()) {
        return CompletableFuture.failedFuture(new CloudProviderException.InsufficientCapacity("no instance type in the claim's requirements has an "
            + "available offering in the class's subnets that fits its requests " + plan.requests().amounts()));
      }
      return reserve(call.get(), nodeClass, content).thenCompose(sent -> sent.call().byPool().isEmpty() ? launch(claim, nodeClass, attempt)
          : aws.ec2().createFleet(sent.call().request()).handle((response, error) -> {
          if (error != null) {
            if (LaunchTemplates.notFound(error) && attempt == 1) {
              templates.forget(template);
              sent.call().request().launchTemplateConfigs().forEach(c -> templates.forget(c.launchTemplateSpecification().launchTemplateName()));
              return launch(claim, nodeClass, attempt + 1);
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
              instance = inReservation(instance, reservation);
            }
            LOG.info("launched {} ({} {} {}) for NodeClaim {}", l.instanceId(), instance.instanceType(), instance.zone(), instance.capacityType().label(),
                claim.getMetadata().getName());
            return CompletableFuture.completedFuture(instance);
          }
          String why = result.errors().stream().map(e -> e.instanceType() + "/" + e.zone() + ": " + e.code()).distinct().limit(5)
              .collect(Collectors.joining(", "));
          if (attempt == 1 && result.errors().stream().anyMatch(Fleets.PoolError::unavailable)) {
            LOG.info("no capacity for NodeClaim {} ({}); trying the remaining offerings", claim.getMetadata().getName(), why);
            return launch(claim, nodeClass, attempt + 1);
          }
          boolean capacity = result.errors().isEmpty() || result.errors().stream().allMatch(Fleets.PoolError::unavailable);
          return CompletableFuture.<Instance>failedFuture(capacity ? new CloudProviderException.InsufficientCapacity("CreateFleet launched nothing: " + why)
              : new CloudProviderException.LaunchFailed("CreateFleet launched nothing: " + why, null));
        }).thenCompose(f -> f));
    });
  }

  /** A Fleet call ready to send, and the reservation each reserved pool in it launches into. */
  private record Sent(Fleets.Call call, Map<String, String> reservations) {
  }

  /**
   * A reserved call launches each pool into a reservation of the class with room, through a launch
   * template naming it; pools none has room in are marked unavailable (the call comes back empty and the
   * launch is planned again without them). Other calls go as they are.
   */
  private CompletableFuture<Sent> reserve(Fleets.Call call, EC2NodeClass nodeClass, LaunchTemplates.Content content) {
    if (call.capacityType() != CapacityType.RESERVED) {
      return CompletableFuture.completedFuture(new Sent(call, Map.of()));
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

  /** An instance launched into a reservation, with Karpenter's reservation labels. */
  private static Instance inReservation(Instance i, String reservationId) {
    Map<String, String> labels = new TreeMap<>(i.labels());
    labels.put(RESERVATION_ID_LABEL, reservationId);
    labels.put(RESERVATION_TYPE_LABEL, "default");
    return new Instance(i.providerId(), i.nodeClaim(), i.instanceType(), i.zone(), CapacityType.RESERVED, i.pricePerHour(), i.capacity(),
        i.allocatable(), i.imageId(), labels, i.launchedAt());
  }

  static final String RESERVATION_ID_LABEL = "karpenter.k8s.aws/capacity-reservation-id";
  static final String RESERVATION_TYPE_LABEL = "karpenter.k8s.aws/capacity-reservation-type";

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
    tags.put(NODECLAIM_TAG, claim.getMetadata().getName());
    tags.put(NODEPOOL_TAG, labels.getOrDefault(WellKnownLabels.NODEPOOL, ""));
    tags.put(NODECLASS_TAG, nodeClass.getMetadata().getName());
    tags.put("kubernetes.io/cluster/" + settings.clusterName(), "owned");
    tags.put("eks:eks-cluster-name", settings.clusterName());
    tags.put(OWNER_TAG, settings.clusterName());
    tags.putIfAbsent("Name", labels.getOrDefault(WellKnownLabels.NODEPOOL, "dovetail") + "/" + claim.getMetadata().getName());
    return tags;
  }

  private Map<String, String> templateTags(EC2NodeClass nodeClass) {
    Map<String, String> tags = new TreeMap<>();
    tags.put(OWNER_TAG, settings.clusterName());
    tags.put(NODECLASS_TAG, nodeClass.getMetadata().getName());
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
    taints.add("karpenter.sh/unregistered:NoExecute");
    return taints;
  }

  @Override
  public CompletionStage<Void> delete(NodeClaim claim) {
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
          Throwable cause = Failures.cause(error);
          if (cause instanceof Ec2Exception e && "InvalidInstanceID.NotFound".equals(LaunchTemplates.code(e))) {
            throw new CloudProviderException.NotFound("instance " + id + " not found");
          }
          throw new CompletionException(cause);
        }
        LOG.info("terminating {} of NodeClaim {}", id, claim.getMetadata().getName());
        return null;
      });
    });
  }

  @Override
  public CompletionStage<Instance> get(String providerId) {
    String id = providerId.substring(providerId.lastIndexOf('/') + 1);
    return aws.ec2().describeInstances(r -> r.instanceIds(id)).handle((response, error) -> {
      if (error != null) {
        Throwable cause = Failures.cause(error);
        if (cause instanceof Ec2Exception e && "InvalidInstanceID.NotFound".equals(LaunchTemplates.code(e))) {
          throw new CloudProviderException.NotFound("instance " + id + " not found");
        }
        throw new CompletionException(cause);
      }
      return instances(response).stream().findFirst()
          .orElseThrow(() -> new CloudProviderException.NotFound("instance " + id + " is terminated"));
    });
  }

  @Override
  public CompletionStage<List<Instance>> list() {
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
    return List.of(Selectors.filter("tag:" + OWNER_TAG, settings.clusterName()), Selectors.filter("tag-key", NODECLAIM_TAG),
        Selectors.filter("instance-state-name", LIVE_STATES.toArray(String[]::new)));
  }

  /** The live instance launched for a claim, if any (found by its tag). */
  private CompletableFuture<Optional<Instance>> ofClaim(String claimName) {
    return lookups.of(claimName);
  }

  /** The live instances of these claims, by claim name (one DescribeInstances; a filter takes up to 200 values). */
  private CompletableFuture<Map<String, Instance>> ofClaims(List<String> claimNames) {
    List<Filter> filters = new ArrayList<>(owned());
    filters.add(Filter.builder().name("tag:" + NODECLAIM_TAG).values(claimNames).build());
    return listPages(DescribeInstancesRequest.builder().filters(filters), null, new ArrayList<>()).thenApply(found -> {
      Map<String, Instance> byClaim = new java.util.HashMap<>();
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
      String claim = i.tags().stream().filter(t -> NODECLAIM_TAG.equals(t.key())).map(t -> t.value()).findFirst().orElse("");
      InstanceOption option = byType.get(i.instanceTypeAsString());
      Instant launched = i.launchTime() == null ? Instant.EPOCH : i.launchTime();
      if (option == null) {
        out.add(new Instance(Instance.providerId(zone, i.instanceId()), claim, i.instanceTypeAsString(), zone, type, Double.NaN,
            dev.dovetail.api.scheduling.Resources.NONE, dev.dovetail.api.scheduling.Resources.NONE, i.imageId(), Map.of(), launched));
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
