package dev.dovetail.provisioner.cloud.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.dovetail.api.aws.v1.AmiSelectorTerm;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.aws.v1.EC2NodeClassSpec;
import dev.dovetail.api.aws.v1.EC2NodeClassStatus;
import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeClaimSpec;
import dev.dovetail.api.karpenter.v1.NodeClaimStatus;
import dev.dovetail.api.karpenter.v1.NodeClassReference;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.ResourceRequirements;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.cloud.CloudProviderException;
import dev.dovetail.provisioner.cloud.Instance;
import dev.dovetail.provisioner.cloud.UnavailableOfferings;
import dev.dovetail.provisioner.controller.Singleton;
import dev.dovetail.provisioner.nodeclaim.GarbageCollection;
import dev.dovetail.runtime.ManualClock;
import dev.dovetail.testkit.MotoServer;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.SpotAllocationStrategy;
import software.amazon.awssdk.services.iam.model.NoSuchEntityException;

/**
 * The AWS provider against moto server: the real SDK marshals every call (describe subnets, security
 * groups and images, SSM, IAM instance profiles, launch templates, CreateFleet, describe and terminate
 * instances) and moto keeps the account's state.
 */
class AwsCloudProviderMockTest {
  private static final String CLUSTER = "moto-test";
  private static MotoServer moto;
  private static AwsClients aws;
  private static AwsCloudProvider provider;

  @BeforeAll
  static void startMoto() throws Exception {
    moto = MotoServer.start();
    System.setProperty("aws.accessKeyId", MotoServer.ACCESS_KEY);
    System.setProperty("aws.secretAccessKey", MotoServer.SECRET_KEY);
    aws = new AwsClients(Optional.of(MotoServer.REGION), Optional.of(moto.endpoint()));
    // What a cluster's account holds: a VPC with tagged subnets in two zones, a tagged security group, a node role.
    String vpc = aws.ec2().createVpc(r -> r.cidrBlock("10.0.0.0/16")).get().vpc().vpcId();
    for (String[] zone : new String[][] {{"us-east-1a", "10.0.1.0/24"}, {"us-east-1b", "10.0.2.0/24"}}) {
      String subnet = aws.ec2().createSubnet(r -> r.vpcId(vpc).cidrBlock(zone[1]).availabilityZone(zone[0])).get().subnet().subnetId();
      aws.ec2().createTags(r -> r.resources(subnet).tags(t -> t.key("karpenter.sh/discovery").value(CLUSTER))).get();
    }
    String group = aws.ec2().createSecurityGroup(r -> r.groupName("nodes").description("nodes").vpcId(vpc)).get().groupId();
    aws.ec2().createTags(r -> r.resources(group).tags(t -> t.key("karpenter.sh/discovery").value(CLUSTER))).get();
    aws.iam().createRole(r -> r.roleName("KarpenterNodeRole-" + CLUSTER).assumeRolePolicyDocument(
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"ec2.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}"))
        .get();
    aws.ssm().putParameter(r -> r.name("/dovetail/test/node-ami").value("ami-760aaa0f").type("String")).get();
    provider = new AwsCloudProvider(aws, new AwsCloudProvider.Settings(CLUSTER, new UserData.Cluster(CLUSTER, "https://example.eks.amazonaws.com",
        "Q0E=", "10.100.0.0/16"), "1.34", SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED), Catalog.bundled(), new UnavailableOfferings(),
        Clock.systemUTC());
  }

  @AfterAll
  static void stop() {
    if (aws != null) {
      aws.close();
    }
    if (moto != null) {
      moto.close();
    }
  }

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  static EC2NodeClass nodeClass(String name, List<AmiSelectorTerm> amis) {
    EC2NodeClass c = Serialization.unmarshal("""
        apiVersion: karpenter.k8s.aws/v1
        kind: EC2NodeClass
        metadata: {name: %s, generation: 1}
        spec:
          role: KarpenterNodeRole-%s
          amiFamily: AL2023
          amiSelectorTerms: [{id: ami-0}]
          subnetSelectorTerms: [{tags: {karpenter.sh/discovery: %s}}]
          securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: %s}}]
          tags: {team: platform}
          metadataOptions: {httpTokens: required, httpPutResponseHopLimit: 2}
          blockDeviceMappings: [{deviceName: /dev/xvda, rootVolume: true, ebs: {volumeSize: 50Gi, volumeType: gp3, encrypted: true}}]
        """.formatted(name, CLUSTER, CLUSTER, CLUSTER), EC2NodeClass.class);
    EC2NodeClassSpec s = c.getSpec();
    c.setSpec(new EC2NodeClassSpec(s.subnetSelectorTerms(), s.securityGroupSelectorTerms(), s.capacityReservationSelectorTerms(),
        s.associatePublicIPAddress(), amis, s.amiFamily(), s.userData(), s.role(), s.instanceProfile(), s.tags(), s.kubelet(), s.blockDeviceMappings(),
        s.instanceStorePolicy(), s.detailedMonitoring(), s.metadataOptions(), s.context(), s.ipPrefixCount(), s.connectionTracking(), s.cpuOptions(),
        s.networkInterfaces(), s.placementGroupSelector()));
    return c;
  }

  private static EC2NodeClass resolved(String name) throws Exception {
    EC2NodeClass c = nodeClass(name, List.of(new AmiSelectorTerm(null, null, null, null, null, "/dovetail/test/node-ami")));
    c.setStatus(await(provider.resolve(c)));
    return c;
  }

  private static NodeClaim claim(String name, String capacityType, String... types) {
    NodeClaim c = new NodeClaim();
    c.setMetadata(new ObjectMetaBuilder().withName(name).withUid(UUID.randomUUID().toString())
        .withLabels(Map.of(WellKnownLabels.NODEPOOL, "general", "team", "a")).build());
    c.setSpec(new NodeClaimSpec(null, null, List.of(NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_TYPE, types),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, capacityType)),
        new ResourceRequirements(Map.of("cpu", new Quantity("1"))), NodeClassReference.ec2NodeClass("default"), null, null));
    return c;
  }

  @Test
  void aNodeClassResolvesToItsSubnetsGroupsAmiAndAnInstanceProfileMadeForItsRole() throws Exception {
    EC2NodeClass c = resolved("resolves");
    EC2NodeClassStatus status = c.getStatus();
    assertThat(status.subnets()).extracting(EC2NodeClassStatus.Subnet::zone).containsExactlyInAnyOrder("us-east-1a", "us-east-1b");
    assertThat(status.securityGroups()).extracting(EC2NodeClassStatus.SecurityGroup::name).containsExactly("nodes");
    assertThat(status.amis()).singleElement().satisfies(a -> {
      assertThat(a.id()).isEqualTo("ami-760aaa0f");
      assertThat(a.requirements()).singleElement().satisfies(r -> assertThat(r.values()).containsExactly("amd64"));
    });
    assertThat(status.instanceProfile()).startsWith(CLUSTER + "_");
    assertThat(status.conditions()).filteredOn(x -> x.type().equals("Ready")).singleElement()
        .satisfies(x -> assertThat(x.status()).isEqualTo(Condition.Status.True));
    var profile = await(aws.iam().getInstanceProfile(r -> r.instanceProfileName(status.instanceProfile()))).instanceProfile();
    assertThat(profile.roles()).extracting(r -> r.roleName()).containsExactly("KarpenterNodeRole-" + CLUSTER);
    // Resolving again adopts the profile instead of creating a second one.
    assertThat(await(provider.resolve(c)).instanceProfile()).isEqualTo(status.instanceProfile());
  }

  @Test
  void amisByNameAndOwnerGiveTheNewestPerArchitectureAndAMissingAliasSaysSo() throws Exception {
    EC2NodeClass byName = nodeClass("by-name", List.of(new AmiSelectorTerm(null, null, null, "al2023-ami-2023*", "amazon", null)));
    EC2NodeClassStatus status = await(provider.resolve(byName));
    assertThat(status.amis()).extracting(a -> a.requirements().get(0).values().get(0)).containsExactlyInAnyOrder("amd64", "arm64");
    assertThat(status.amis()).allSatisfy(a -> assertThat(a.name()).startsWith("al2023-ami-2023"));

    // moto has no EKS public parameters: the alias resolves to nothing, and the condition says why.
    EC2NodeClass alias = nodeClass("alias", List.of(new AmiSelectorTerm("al2023@latest", null, null, null, null, null)));
    EC2NodeClassStatus missing = await(provider.resolve(alias));
    assertThat(missing.amis()).isEmpty();
    assertThat(missing.conditions()).filteredOn(x -> x.type().equals("AMIsReady")).singleElement().satisfies(x -> {
      assertThat(x.status()).isEqualTo(Condition.Status.False);
      assertThat(x.reason()).isEqualTo("AMINotFound");
    });
    assertThat(missing.conditions()).filteredOn(x -> x.type().equals("Ready")).singleElement()
        .satisfies(x -> assertThat(x.message()).contains("AMIsReady"));
  }

  @Test
  void aClaimLaunchesOneTaggedInstanceOnceAndTerminatesIt() throws Exception {
    EC2NodeClass c = resolved("launches");
    NodeClaim claim = claim("general-abcde", "on-demand", "m5.large", "c5.large");
    Instance instance = await(provider.create(claim, c));
    assertThat(instance.providerId()).matches("aws:///us-east-1[ab]/i-[0-9a-f]+");
    assertThat(instance.instanceType()).isIn("m5.large", "c5.large");
    assertThat(instance.capacityType()).isEqualTo(CapacityType.ON_DEMAND);
    assertThat(instance.labels()).containsEntry(WellKnownLabels.ZONE, instance.zone()).containsKey(WellKnownLabels.INSTANCE_CPU);

    var described = await(aws.ec2().describeInstances(r -> r.instanceIds(instance.instanceId()))).reservations().get(0).instances().get(0);
    assertThat(described.tags()).extracting(t -> t.key() + "=" + t.value()).contains("karpenter.sh/nodeclaim=general-abcde",
        "karpenter.sh/nodepool=general", "karpenter.k8s.aws/ec2nodeclass=launches", "kubernetes.io/cluster/" + CLUSTER + "=owned",
        AwsCloudProvider.OWNER_TAG + "=" + CLUSTER, "team=platform");
    assertThat(described.imageId()).isEqualTo("ami-760aaa0f");

    // The launch template carries the bootstrap: nodeadm config joining the cluster, registered tainted, IMDSv2 only.
    var templates = await(aws.ec2().describeLaunchTemplates(r -> r.filters(Filter.builder().name("tag:" + AwsCloudProvider.OWNER_TAG)
        .values(CLUSTER).build(), Filter.builder().name("tag:" + AwsCloudProvider.NODECLASS_TAG).values("launches").build()))).launchTemplates();
    assertThat(templates).isNotEmpty().allSatisfy(t -> assertThat(t.launchTemplateName()).startsWith(LaunchTemplates.PREFIX + CLUSTER + "/"));
    var data = await(aws.ec2().describeLaunchTemplateVersions(r -> r.launchTemplateName(templates.get(0).launchTemplateName())))
        .launchTemplateVersions().get(0).launchTemplateData();
    assertThat(new String(Base64.getDecoder().decode(data.userData()), StandardCharsets.UTF_8))
        .contains("kind: NodeConfig", "apiServerEndpoint: \"https://example.eks.amazonaws.com\"", "karpenter.sh/unregistered:NoExecute");
    assertThat(data.metadataOptions().httpTokensAsString()).isEqualTo("required");
    assertThat(data.metadataOptions().httpPutResponseHopLimit()).isEqualTo(2);
    assertThat(data.iamInstanceProfile().name()).isEqualTo(c.getStatus().instanceProfile());

    // Asked again (a retry, a restarted provisioner), the provider returns the same instance.
    assertThat(await(provider.create(claim, c)).providerId()).isEqualTo(instance.providerId());
    assertThat(await(provider.list())).extracting(Instance::providerId).contains(instance.providerId());
    assertThat(await(provider.get(instance.providerId())).nodeClaim()).isEqualTo("general-abcde");

    claim.setStatus(new NodeClaimStatus(null, instance.providerId(), null, null, null, null, null));
    await(provider.delete(claim));
    Throwable gone = catchThrowable(() -> await(provider.get(instance.providerId())));
    assertThat(gone).hasCauseInstanceOf(CloudProviderException.NotFound.class);
    Throwable again = catchThrowable(() -> await(provider.delete(claim)));
    assertThat(again).hasCauseInstanceOf(CloudProviderException.NotFound.class);
    assertThat(await(provider.list())).extracting(Instance::providerId).doesNotContain(instance.providerId());
  }

  @Test
  void aDeletedClassTakesItsLaunchTemplatesAndInstanceProfileWithIt() throws Exception {
    EC2NodeClass c = resolved("cleanup");
    EC2NodeClass other = resolved("stays");
    await(provider.create(claim("general-clean1", "on-demand", "m5.large"), c));
    await(provider.create(claim("general-stay1", "on-demand", "m5.large"), other));
    Function<String, List<String>> templatesOf = name -> {
      try {
        return await(aws.ec2().describeLaunchTemplates(r -> r.filters(Filter.builder().name("tag:" + AwsCloudProvider.NODECLASS_TAG).values(name)
            .build()))).launchTemplates().stream().map(t -> t.launchTemplateName()).toList();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    };
    assertThat(templatesOf.apply("cleanup")).isNotEmpty();
    // Each class has its own profile for the role, so deleting one class leaves the other's alone.
    String profile = c.getStatus().instanceProfile();
    assertThat(other.getStatus().instanceProfile()).isNotEqualTo(profile);

    await(provider.cleanUp(c));
    assertThat(templatesOf.apply("cleanup")).isEmpty();
    assertThat(templatesOf.apply("stays")).isNotEmpty();
    Throwable gone = catchThrowable(() -> await(aws.iam().getInstanceProfile(r -> r.instanceProfileName(profile))));
    assertThat(gone).hasCauseInstanceOf(NoSuchEntityException.class);
    assertThat(await(aws.iam().getInstanceProfile(r -> r.instanceProfileName(other.getStatus().instanceProfile()))).instanceProfile().roles())
        .hasSize(1);
    // Cleaning up again finds nothing to do.
    await(provider.cleanUp(c));
  }

  @Test
  void unusedLaunchTemplatesAreCollectedAndMadeAgainWhenNeeded() throws Exception {
    EC2NodeClass c = resolved("templates");
    await(provider.create(claim("general-tmpl1", "on-demand", "m5.large"), c));
    Supplier<List<String>> templates = () -> {
      try {
        return await(aws.ec2().describeLaunchTemplates(r -> r.filters(Filter.builder().name("tag:" + AwsCloudProvider.NODECLASS_TAG)
            .values("templates").build()))).launchTemplates().stream().map(t -> t.launchTemplateName()).toList();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    };
    assertThat(templates.get()).hasSize(1);
    // Used by this process: kept, however old.
    provider.templateIdle(Duration.ZERO);
    Thread.sleep(1100);
    await(provider.collectGarbage());
    assertThat(templates.get()).hasSize(1);
    // A restarted process has not used it: collected; its next launch makes it again.
    AwsCloudProvider restarted = new AwsCloudProvider(aws, new AwsCloudProvider.Settings(CLUSTER, new UserData.Cluster(CLUSTER,
        "https://example.eks.amazonaws.com", "Q0E=", "10.100.0.0/16"), "1.34", SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED), Catalog.bundled(),
        new UnavailableOfferings(), Clock.systemUTC());
    restarted.templateIdle(Duration.ZERO);
    await(restarted.collectGarbage());
    assertThat(templates.get()).isEmpty();
    await(restarted.create(claim("general-tmpl2", "on-demand", "m5.large"), c));
    assertThat(templates.get()).hasSize(1);
  }

  @Test
  void anInstanceNoClaimOwnsIsTerminatedByTheGarbageCollectionLoopAfterTheGraceOnly() throws Exception {
    EC2NodeClass c = resolved("orphans");
    Instance kept = await(provider.create(claim("general-kept1", "on-demand", "m5.large"), c));
    Instance orphan = await(provider.create(claim("general-gone1", "on-demand", "m5.large"), c));
    NodeClaim owner = claim("general-kept1", "on-demand", "m5.large");
    // The loop as the operator runs it, on a clock the test moves: passes every 50 ms, grace 5 minutes.
    ManualClock clock = new ManualClock(Instant.now());
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    GarbageCollection gc = new GarbageCollection(() -> List.of(owner), providerId -> Optional.empty(), null, provider, clock,
        GarbageCollection.GRACE, registry);
    try (Singleton loop = gc.controller(Duration.ofMillis(50), () -> true, registry).start(Duration.ZERO)) {
      // Young instances are left alone (their claims may not have recorded them yet), pass after pass ...
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> passes(registry) >= 3);
      List<String> before = await(provider.list()).stream().map(Instance::providerId).toList();
      assertThat(before).contains(kept.providerId(), orphan.providerId());
      assertThat(registry.get("dovetail.cloud.orphans.terminated").counter().count()).isZero();
      // ... older ones without a claim go (the other tests' leftovers in this account too), and only they.
      clock.advance(Duration.ofMinutes(6));
      Awaitility.await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(await(provider.list())).extracting(Instance::providerId)
          .containsExactly(kept.providerId()));
      Awaitility.await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
          assertThat(registry.get("dovetail.cloud.orphans.terminated").counter().count()).isEqualTo(before.size() - 1));
    }
  }

  private static double passes(SimpleMeterRegistry registry) {
    return registry.get("controller_runtime_reconcile").tag("controller", "nodeclaim.garbagecollection").tag("result", "success").counter()
        .count();
  }

  @Test
  void aSpotClaimLaunchesSpotAndAnUnknownInstanceIsNotFound() throws Exception {
    EC2NodeClass c = resolved("spot");
    Instance spot = await(provider.create(claim("general-spot1", "spot", "m5.large", "m5.xlarge"), c));
    assertThat(spot.capacityType()).isEqualTo(CapacityType.SPOT);
    var described = await(aws.ec2().describeInstances(r -> r.instanceIds(spot.instanceId()))).reservations().get(0).instances().get(0);
    assertThat(described.instanceLifecycleAsString()).isEqualTo("spot");
    Throwable missing = catchThrowable(() -> await(provider.get("aws:///us-east-1a/i-0123456789abcdef0")));
    assertThat(missing).isInstanceOf(ExecutionException.class).hasCauseInstanceOf(CloudProviderException.NotFound.class);
    assertThat(missing).isNotInstanceOf(CompletionException.class);
  }
}
