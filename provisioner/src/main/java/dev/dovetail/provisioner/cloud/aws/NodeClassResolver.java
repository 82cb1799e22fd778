package dev.dovetail.provisioner.cloud.aws;

import dev.dovetail.api.aws.v1.AmiSelectorTerm;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.aws.v1.EC2NodeClassSpec;
import dev.dovetail.api.aws.v1.EC2NodeClassStatus;
import dev.dovetail.api.aws.v1.SecurityGroupSelectorTerm;
import dev.dovetail.api.aws.v1.SubnetSelectorTerm;
import dev.dovetail.api.drift.Hashes;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.cloud.NodeClassConditions;
import dev.dovetail.provisioner.cloud.aws.AwsCloudProvider.Settings;
import dev.dovetail.runtime.Failures;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.ec2.model.DescribeImagesRequest;
import software.amazon.awssdk.services.ec2.model.Image;
import software.amazon.awssdk.services.iam.model.Tag;

/**
 * What an EC2NodeClass's selectors resolve to, as Karpenter resolves them: subnets, security groups,
 * AMIs (by id, name, owner, tags, SSM parameter or alias; the newest per architecture), an instance
 * profile (the user's, or one of ours made for the class's role), capacity reservations; each part's
 * condition, and {@code Ready} over them. Deleting a class removes what was made for it.
 */
final class NodeClassResolver {
  private static final Logger LOG = LoggerFactory.getLogger(NodeClassResolver.class);
  private final AwsClients aws;
  private final Settings settings;
  private final CapacityReservations reservations;
  private final LaunchTemplates templates;
  private final Clock clock;

  NodeClassResolver(AwsClients aws, Settings settings, CapacityReservations reservations, LaunchTemplates templates, Clock clock) {
    this.aws = aws;
    this.settings = settings;
    this.reservations = reservations;
    this.templates = templates;
    this.clock = clock;
  }

  CompletionStage<EC2NodeClassStatus> resolve(EC2NodeClass nodeClass) {
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
          parts.add(part(ConditionTypes.SUBNETS_READY, "SubnetsNotFound", subnets, "no subnet matches subnetSelectorTerms"));
          parts.add(part(ConditionTypes.SECURITY_GROUPS_READY, "SecurityGroupsNotFound", groups, "no security group matches securityGroupSelectorTerms"));
          parts.add(part(ConditionTypes.AMIS_READY, "AMINotFound", amis, "no AMI matches amiSelectorTerms"));
          parts.add(profile.isCompletedExceptionally() || profile.join().isEmpty()
              ? NodeClassConditions.Part.failed(ConditionTypes.INSTANCE_PROFILE_READY, "InstanceProfileNotFound", problem(profile, "no instance profile"))
              : NodeClassConditions.Part.ok(ConditionTypes.INSTANCE_PROFILE_READY));
          if (spec.capacityReservationSelectorTerms() != null && !spec.capacityReservationSelectorTerms().isEmpty()) {
            // No reservation matching is not a fault (they come and go); failing to look is.
            parts.add(reserved.isCompletedExceptionally()
                ? NodeClassConditions.Part.failed(ConditionTypes.CAPACITY_RESERVATIONS_READY, "CapacityReservationsNotFound", problem(reserved, ""))
                : NodeClassConditions.Part.ok(ConditionTypes.CAPACITY_RESERVATIONS_READY));
          }
          parts.add(NodeClassConditions.Part.ok(ConditionTypes.VALIDATION_SUCCEEDED));
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
                if (AwsErrors.parameterNotFound(e)) {
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
    String name = settings.clusterName() + "_" + Hashes.of(Map.of("nodeClass", nodeClass.getMetadata().getName(),
        "cluster", settings.clusterName()));
    String role = spec.role().contains("/") ? spec.role().substring(spec.role().lastIndexOf('/') + 1) : spec.role();
    return aws.iam().getInstanceProfile(r -> r.instanceProfileName(name)).handle((found, error) -> {
      if (error == null) {
        if (found.instanceProfile().roles().stream().anyMatch(r -> r.roleName().equals(role))) {
          return CompletableFuture.completedFuture(Optional.of(name));
        }
        return aws.iam().addRoleToInstanceProfile(r -> r.instanceProfileName(name).roleName(role)).thenApply(x -> Optional.of(name));
      }
      if (!AwsErrors.noSuchEntity(error)) {
        return CompletableFuture.<Optional<String>>failedFuture(Failures.cause(error));
      }
      return aws.iam().createInstanceProfile(r -> r.instanceProfileName(name).tags(
              Tag.builder().key(AwsCloudProvider.OWNER_TAG).value(settings.clusterName()).build(),
              Tag.builder().key(AwsCloudProvider.NODECLASS_TAG).value(nodeClass.getMetadata().getName()).build()))
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
  CompletionStage<Void> cleanUp(EC2NodeClass nodeClass) {
    String name = nodeClass.getMetadata().getName();
    CompletableFuture<Void> templatesGone = aws.ec2().describeLaunchTemplates(r -> r.filters(Selectors.filter("tag:" + AwsCloudProvider.OWNER_TAG,
            settings.clusterName()), Selectors.filter("tag:" + AwsCloudProvider.NODECLASS_TAG, name)))
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
          if (AwsErrors.noSuchEntity(e)) {
            return null;  // already gone
          }
          throw new CompletionException(Failures.cause(e));
        });
    return CompletableFuture.allOf(templatesGone, profileGone);
  }
}
