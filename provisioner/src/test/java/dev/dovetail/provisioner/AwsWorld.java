package dev.dovetail.provisioner;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.InstanceOption;
import dev.dovetail.api.scheduling.InstanceOptions;
import dev.dovetail.provisioner.cloud.aws.AwsClients;
import dev.dovetail.provisioner.cloud.aws.AwsCloud;
import dev.dovetail.testkit.MotoServer;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.TaintBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.assertj.core.api.Assertions;
import org.awaitility.Awaitility;

/**
 * An AWS account on moto server for end-to-end tests: a VPC with discovery-tagged subnets in two zones, a
 * security group, a node role, an AMI behind an SSM parameter; and a bridge that plays the kubelet of
 * every running instance launched for the cluster, registering a kwok Node with its provider ID.
 */
final class AwsWorld implements AutoCloseable {
  static final String DISCOVERY = "aws-e2e";
  static final String AMI_PARAMETER = "/dovetail/e2e/node-ami";
  private static final Map<String, InstanceOption> TYPES = InstanceOptions.from(Catalog.bundled(), Set.of("us-east-1a", "us-east-1b"),
      OptionalInt.empty(), (t, o) -> false).stream().collect(Collectors.toMap(InstanceOption::name, Function.identity(), (a, b) -> a));

  final MotoServer moto;
  final AwsClients aws;
  private final ScheduledExecutorService bridge = Executors.newSingleThreadScheduledExecutor();

  private AwsWorld(MotoServer moto, AwsClients aws) {
    this.moto = moto;
    this.aws = aws;
  }

  static AwsWorld start() throws Exception {
    MotoServer moto = MotoServer.start();
    System.setProperty("aws.accessKeyId", MotoServer.ACCESS_KEY);
    System.setProperty("aws.secretAccessKey", MotoServer.SECRET_KEY);
    AwsClients aws = new AwsClients(Optional.of(MotoServer.REGION), Optional.of(moto.endpoint()));
    String vpc = aws.ec2().createVpc(r -> r.cidrBlock("10.0.0.0/16")).get().vpc().vpcId();
    for (String[] zone : new String[][] {{"us-east-1a", "10.0.1.0/24"}, {"us-east-1b", "10.0.2.0/24"}}) {
      String subnet = aws.ec2().createSubnet(r -> r.vpcId(vpc).cidrBlock(zone[1]).availabilityZone(zone[0])).get().subnet().subnetId();
      aws.ec2().createTags(r -> r.resources(subnet).tags(t -> t.key("karpenter.sh/discovery").value(DISCOVERY))).get();
    }
    String group = aws.ec2().createSecurityGroup(r -> r.groupName("nodes").description("nodes").vpcId(vpc)).get().groupId();
    aws.ec2().createTags(r -> r.resources(group).tags(t -> t.key("karpenter.sh/discovery").value(DISCOVERY))).get();
    aws.iam().createRole(r -> r.roleName("KarpenterNodeRole-" + DISCOVERY).assumeRolePolicyDocument("{\"Version\":\"2012-10-17\",\"Statement\":[]}"))
        .get();
    aws.ssm().putParameter(r -> r.name(AMI_PARAMETER).value("ami-760aaa0f").type("String")).get();
    return new AwsWorld(moto, aws);
  }

  /** A running instance, as its kubelet knows itself. */
  record Booted(String id, String type, String zone, boolean spot, String claim) {
  }

  /** Starts registering a Node for each running instance of the cluster (as moto has them), every half second. */
  AwsWorld bridge(KubernetesClient client, String clusterName) {
    return bridge(client, () -> running(clusterName));
  }

  /**
   * As above, for instances kept elsewhere (a fake EC2 endpoint in front of moto that launches them itself),
   * read without a call that endpoint would see.
   */
  AwsWorld bridge(KubernetesClient client, Supplier<List<Booted>> running) {
    bridge.scheduleWithFixedDelay(() -> {
      try {
        registerBootedInstances(client, running.get());
      } catch (Exception e) {
        System.err.println("[bridge] " + e);
      }
    }, 500, 500, TimeUnit.MILLISECONDS);
    return this;
  }

  /** The running instances of the cluster on moto. */
  private List<Booted> running(String clusterName) {
    try {
      return aws.ec2().describeInstances(r -> r.filters(f -> f.name("tag:dovetail.dev/cluster").values(clusterName),
          f -> f.name("instance-state-name").values("running"))).get().reservations().stream().flatMap(r -> r.instances().stream())
          .map(i -> new Booted(i.instanceId(), i.instanceTypeAsString(), i.placement().availabilityZone(), "spot".equals(i.instanceLifecycleAsString()),
              i.tags().stream().filter(t -> t.key().equals("karpenter.sh/nodeclaim")).map(t -> t.value()).findFirst().orElse("")))
          .toList();
    } catch (Exception e) {
      throw new IllegalStateException("describing the instances on moto", e);
    }
  }

  static EC2NodeClass nodeClass(String name) {
    return Serialization.unmarshal("""
        apiVersion: karpenter.k8s.aws/v1
        kind: EC2NodeClass
        metadata: {name: %s}
        spec:
          role: KarpenterNodeRole-%s
          amiFamily: AL2023
          amiSelectorTerms: [{ssmParameter: %s}]
          subnetSelectorTerms: [{tags: {karpenter.sh/discovery: %s}}]
          securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: %s}}]
        """.formatted(name, DISCOVERY, AMI_PARAMETER, DISCOVERY, DISCOVERY), EC2NodeClass.class);
  }

  /** The provisioner's test settings with the AWS provider talking to {@code endpoint} (moto, or a fake in front of it). */
  static Operator.Settings settings(String identity, URI endpoint) {
    return Fixtures.settings(identity, false).withAws(new AwsCloud.Options(Optional.of(MotoServer.REGION), Optional.of(endpoint),
        "https://api.aws-e2e.example", "Q0E=", "10.100.0.0/16", "price-capacity-optimized"));
  }

  /** Creates {@link #nodeClass} and waits until the provisioner has resolved it Ready. */
  static EC2NodeClass readyNodeClass(KubernetesClient client, String name) {
    client.resources(EC2NodeClass.class).resource(nodeClass(name)).create();
    Awaitility.await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      EC2NodeClass c = client.resources(EC2NodeClass.class).withName(name).get();
      Assertions.assertThat(c.getStatus()).isNotNull();
      Assertions.assertThat(c.getStatus().conditions()).filteredOn(x -> x.type().equals("Ready")).singleElement()
          .satisfies(x -> Assertions.assertThat(x.isTrue()).as(x.message()).isTrue());
      Assertions.assertThat(c.getStatus().subnets()).hasSize(2);
    });
    return client.resources(EC2NodeClass.class).withName(name).get();
  }

  /** Every instance launched for the cluster, in any state, as (instance id, NodeClaim tag, state). */
  List<String[]> instances(String clusterName) throws Exception {
    return aws.ec2().describeInstances(r -> r.filters(f -> f.name("tag:dovetail.dev/cluster").values(clusterName))).get().reservations().stream()
        .flatMap(r -> r.instances().stream())
        .map(i -> new String[] {i.instanceId(), i.tags().stream().filter(t -> t.key().equals("karpenter.sh/nodeclaim")).map(t -> t.value())
            .findFirst().orElse(""), i.state().nameAsString()})
        .toList();
  }

  /** What each instance's kubelet does on boot: register a Node with its provider ID, tainted unregistered. */
  private static void registerBootedInstances(KubernetesClient client, List<Booted> running) {
    for (Booted instance : running) {
      String name = "ip-" + instance.id().substring(2) + ".ec2.internal";
      if (client.nodes().withName(name).get() != null) {
        continue;
      }
      NodeClaim claim = client.resources(NodeClaim.class).withName(instance.claim()).get();
      InstanceOption type = TYPES.get(instance.type());
      if (claim == null || type == null || claim.getMetadata().getDeletionTimestamp() != null) {
        continue;
      }
      Map<String, String> labels = new HashMap<>(claim.getMetadata().getLabels());
      labels.putAll(type.requirements().singleValues());
      labels.put(WellKnownLabels.ZONE, instance.zone());
      labels.put(WellKnownLabels.HOSTNAME, name);
      labels.put(WellKnownLabels.CAPACITY_TYPE, instance.spot() ? "spot" : "on-demand");
      Node node = new NodeBuilder().withNewMetadata().withName(name).withLabels(labels).addToAnnotations("kwok.x-k8s.io/node", "fake").endMetadata()
          .withNewSpec().withProviderID("aws:///" + instance.zone() + "/" + instance.id())
          .withTaints(new TaintBuilder().withKey("karpenter.sh/unregistered").withEffect("NoExecute").build()).endSpec()
          .withNewStatus().withCapacity(type.capacity().toQuantities()).withAllocatable(type.allocatable().toQuantities()).endStatus().build();
      try {
        client.nodes().resource(node).create();
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw e;
        }
      }
    }
  }

  @Override
  public void close() {
    bridge.shutdownNow();
    aws.close();
    moto.close();
  }
}
