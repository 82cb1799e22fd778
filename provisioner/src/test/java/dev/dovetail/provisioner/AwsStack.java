package dev.dovetail.provisioner;

import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.cloud.aws.FakeEc2;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.util.List;
import java.util.Optional;

/**
 * What the AWS end-to-end tests run: an account on moto ({@link AwsWorld}), optionally our fault-injecting
 * EC2 endpoint in front of it, the provisioner with the AWS provider talking to whichever is in front, the
 * extender on its caches, and the kubelet bridge. Closes in reverse order.
 */
final class AwsStack implements AutoCloseable {
  final AwsWorld world;
  /** The fault-injecting endpoint, when the stack has one. */
  final Optional<FakeEc2> ec2;
  final Operator operator;
  private final LocalExtender extender;

  private AwsStack(AwsWorld world, Optional<FakeEc2> ec2, Operator operator, LocalExtender extender) {
    this.world = world;
    this.ec2 = ec2;
    this.operator = operator;
    this.extender = extender;
  }

  /** @param faultFront launch through a {@link FakeEc2} that passes the rest through to moto */
  static AwsStack start(KubernetesClient client, String identity, boolean faultFront) throws Exception {
    AwsWorld world = AwsWorld.start();
    Optional<FakeEc2> ec2 = faultFront ? Optional.of(FakeEc2.start(world.moto.endpoint())) : Optional.empty();
    Operator.Settings settings = AwsWorld.settings(identity, ec2.map(FakeEc2::endpoint).orElse(world.moto.endpoint()));
    Operator operator = new Operator(settings, client, Catalog.bundled(), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), Clock.systemUTC())
        .start();
    LocalExtender extender = LocalExtender.start(operator.caches().view(), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    if (ec2.isPresent()) {
      // The fake keeps the instances it launches; the bridge reads them there, so the fake sees only the provisioner's calls.
      world.bridge(client, () -> running(ec2.get(), settings.clusterName()));
    } else {
      world.bridge(client, settings.clusterName());
    }
    return new AwsStack(world, ec2, operator, extender);
  }

  /** The fake's running instances of the cluster. */
  private static List<AwsWorld.Booted> running(FakeEc2 ec2, String clusterName) {
    return ec2.instances().values().stream().filter(i -> "running".equals(i.state().get()) && clusterName.equals(i.tags().get("dovetail.dev/cluster")))
        .map(i -> new AwsWorld.Booted(i.id(), i.type(), i.zone(), "spot".equals(i.lifecycle()), i.tags().getOrDefault("karpenter.sh/nodeclaim", "")))
        .toList();
  }

  /** A NodePool of 2- and 4-vCPU c and m types (amd64) on the node class {@code label}, of these capacity types. */
  static NodePool nodePool(KubernetesClient client, String label, String... capacityTypes) {
    return client.resources(NodePool.class).resource(Fixtures.nodePool(label, label, label, null, null,
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_CATEGORY, "c", "m"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_CPU, "2", "4"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.ARCH, "amd64"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, capacityTypes))).create();
  }

  @Override
  public void close() throws Exception {
    extender.close();
    operator.close();
    if (ec2.isPresent()) {
      ec2.get().close();
    }
    world.close();
  }
}
