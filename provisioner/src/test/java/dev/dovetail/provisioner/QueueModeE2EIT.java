package dev.dovetail.provisioner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.interruption.InterruptionQueue;
import dev.dovetail.provisioner.kube.Conditions;
import dev.dovetail.testkit.MotoServer;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithCluster;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.eventbridge.EventBridgeAsyncClient;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequestEntry;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * Queue mode end to end: EC2 interruption events go through a real EventBridge rule to a real SQS queue
 * (moto server speaks both wire protocols), and the provisioner, reading the queue with the async SDK,
 * acts on the cluster (real API server, scheduler, controller manager; kwok nodes from the sim cloud).
 */
@WithCluster(schedulerConfig = "manifests/scheduler/local-extender.yaml")
class QueueModeE2EIT {
  private static final String QUEUE = "dovetail-interruption";
  private static MotoServer moto;
  private static SqsAsyncClient sqs;
  private static EventBridgeAsyncClient events;
  private static String queueUrl;
  private static InProcess dovetail;

  @BeforeAll
  static void startMotoAndProvisioner(KubernetesClient client) throws Exception {
    moto = MotoServer.start();
    // The provisioner's client takes its credentials from the default chain, as in a pod.
    System.setProperty("aws.accessKeyId", MotoServer.ACCESS_KEY);
    System.setProperty("aws.secretAccessKey", MotoServer.SECRET_KEY);
    var credentials = StaticCredentialsProvider.create(AwsBasicCredentials.create(MotoServer.ACCESS_KEY, MotoServer.SECRET_KEY));
    sqs = SqsAsyncClient.builder().endpointOverride(moto.endpoint()).region(Region.US_EAST_1).credentialsProvider(credentials)
        .httpClientBuilder(NettyNioAsyncHttpClient.builder()).build();
    events = EventBridgeAsyncClient.builder().endpointOverride(moto.endpoint()).region(Region.US_EAST_1).credentialsProvider(credentials)
        .httpClientBuilder(NettyNioAsyncHttpClient.builder()).build();
    // What Karpenter's getting-started stack creates: a queue with 300 s retention, one rule per event kind.
    queueUrl = sqs.createQueue(b -> b.queueName(QUEUE).attributes(Map.of(QueueAttributeName.MESSAGE_RETENTION_PERIOD, "300"))).get().queueUrl();
    String queueArn = sqs.getQueueAttributes(b -> b.queueUrl(queueUrl).attributeNames(QueueAttributeName.QUEUE_ARN)).get()
        .attributes().get(QueueAttributeName.QUEUE_ARN);
    for (var rule : Map.of("spot", "{\"source\":[\"aws.ec2\"],\"detail-type\":[\"EC2 Spot Instance Interruption Warning\"]}",
        "rebalance", "{\"source\":[\"aws.ec2\"],\"detail-type\":[\"EC2 Instance Rebalance Recommendation\"]}",
        "state", "{\"source\":[\"aws.ec2\"],\"detail-type\":[\"EC2 Instance State-change Notification\"]}",
        "health", "{\"source\":[\"aws.health\"],\"detail-type\":[\"AWS Health Event\"]}").entrySet()) {
      events.putRule(b -> b.name("dovetail-" + rule.getKey()).eventPattern(rule.getValue())).get();
      events.putTargets(b -> b.rule("dovetail-" + rule.getKey()).targets(t -> t.id("queue").arn(queueArn))).get();
    }
    Operator.Settings settings = Fixtures.settings("queue", false)
        .withInterruptionQueue(new InterruptionQueue.Settings(QUEUE, Optional.of(MotoServer.REGION), Optional.of(moto.endpoint()), Duration.ofSeconds(5)));
    dovetail = InProcess.start(client, settings);
  }

  @AfterAll
  static void stop() throws Exception {
    if (dovetail != null) {
      dovetail.close();
    }
    if (sqs != null) {
      sqs.close();
      events.close();
    }
    if (moto != null) {
      moto.close();
    }
  }

  @Test
  void aSpotInterruptionOnTheQueueTaintsReplacesAndDrainsTheNodeWithinItsBudget(KubernetesClient client, TestNamespace ns) throws Exception {
    String label = Fixtures.unique("qspot");
    NodeClaim first = runThreePods(client, ns, label, true);
    String node = first.getStatus().nodeName();
    String instanceId = instanceId(first);

    ConcurrentLinkedQueue<Integer> available = new ConcurrentLinkedQueue<>();
    // Samples in which a pod of the interrupted node was already being evicted while no replacement claim was Initialized:
    // the pods are read before the claims, so a replacement Initialized before the eviction is seen as such.
    ConcurrentLinkedQueue<String> evictedBeforeReplacement = new ConcurrentLinkedQueue<>();
    ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
    sampler.scheduleAtFixedRate(() -> {
      List<Pod> pods = client.pods().inNamespace(ns.name()).withLabel("app", "web").list().getItems();
      available.add((int) pods.stream().filter(QueueModeE2EIT::readyAndNotDeleting).count());
      List<String> evicting = pods.stream().filter(p -> node.equals(p.getSpec().getNodeName()) && p.getMetadata().getDeletionTimestamp() != null)
          .map(p -> p.getMetadata().getName()).toList();
      if (!evicting.isEmpty() && ProvisioningE2EIT.claimsOf(client, label).stream().filter(c -> !c.getMetadata().getName().equals(first.getMetadata().getName()))
          .noneMatch(c -> c.getStatus() != null && Conditions.isTrue(c.getStatus().conditions(), ConditionTypes.INITIALIZED))) {
        evictedBeforeReplacement.add(evicting.toString());
      }
    }, 0, 200, TimeUnit.MILLISECONDS);
    try {
      long sent = System.nanoTime();
      put("aws.ec2", "EC2 Spot Instance Interruption Warning",
          "{\"instance-id\":\"" + instanceId + "\",\"instance-action\":\"terminate\"}");
      // The node stops taking pods within seconds of the event.
      await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
        Node n = client.nodes().withName(node).get();
        assertThat(n).isNotNull();
        assertThat(n.getSpec().getUnschedulable()).isTrue();
        assertThat(n.getSpec().getTaints()).extracting(Taint::getKey)
            .contains(WellKnownLabels.DISRUPTED_TAINT, DovetailLabels.SPOT_INTERRUPTION_TAINT);
      });
      System.out.printf("[queue] event put -> node tainted and cordoned in %d ms%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent));
      // A replacement is launched, the interrupted claim is drained and deleted, the pods run elsewhere.
      await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
        assertThat(client.resources(NodeClaim.class).withName(first.getMetadata().getName()).get()).as(() -> ClusterDump.of(client, ns.name()))
            .isNull();
        assertThat(client.nodes().withName(node).get()).isNull();
        assertThat(client.pods().inNamespace(ns.name()).list().getItems()).extracting(p -> p.getStatus().getPhase() + "@" + p.getSpec().getNodeName())
            .hasSize(3).allSatisfy(s -> assertThat(s).startsWith("Running@").doesNotEndWith(node));
      });
    } finally {
      sampler.shutdownNow();
    }
    assertThat(available.stream().mapToInt(Integer::intValue).min().orElse(0)).as("ready pods during the drain: " + available)
        .isGreaterThanOrEqualTo(2);
    // The drain held its evictions until the pods' replacement was Initialized (the claim said so), well before the reclaim.
    assertThat(evictedBeforeReplacement).as("pods evicted before any replacement was Initialized").isEmpty();
    List<NodeClaim> now = ProvisioningE2EIT.claimsOf(client, label);
    assertThat(now).isNotEmpty().allSatisfy(c -> assertThat(c.getMetadata().getLabels().get(WellKnownLabels.INSTANCE_TYPE) + "/"
        + c.getMetadata().getLabels().get(WellKnownLabels.CAPACITY_TYPE))
        .isNotEqualTo(first.getMetadata().getLabels().get(WellKnownLabels.INSTANCE_TYPE) + "/spot"));
    List<Event> recorded = client.v1().events().inAnyNamespace().withField("involvedObject.name", first.getMetadata().getName()).list().getItems();
    assertThat(recorded).extracting(Event::getReason).contains("SpotInterrupted");
    assertQueueDrained();
    assertThat(scrape()).containsPattern("karpenter_interruption_received_messages_total\\{message_type=\"spot_interrupted\"\\} 1")
        .containsPattern("karpenter_interruption_deleted_messages_total [1-9]")
        .contains("karpenter_interruption_message_queue_duration_seconds_count");
  }

  @Test
  void aRebalanceOnlyTaintsAndForeignOrBrokenMessagesAreDeletedWithoutHarm(KubernetesClient client, TestNamespace ns) throws Exception {
    String label = Fixtures.unique("qreb");
    NodeClaim claim = runThreePods(client, ns, label, false);
    String node = claim.getStatus().nodeName();
    // Noise first: an instance that is not ours, a body that is not an event, an event of another kind.
    sqs.sendMessage(b -> b.queueUrl(queueUrl).messageBody("this is not JSON")).get();
    put("aws.ec2", "EC2 Spot Instance Interruption Warning", "{\"instance-id\":\"i-0000000000000dead\",\"instance-action\":\"terminate\"}");
    put("aws.ec2", "EC2 Instance State-change Notification", "{\"instance-id\":\"" + instanceId(claim) + "\",\"state\":\"running\"}");
    put("aws.ec2", "EC2 Instance Rebalance Recommendation", "{\"instance-id\":\"" + instanceId(claim) + "\"}");

    await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
      Node n = client.nodes().withName(node).get();
      assertThat(n.getSpec().getTaints()).extracting(Taint::getKey).contains(DovetailLabels.REBALANCE_TAINT)
          .doesNotContain(WellKnownLabels.DISRUPTED_TAINT);
      assertThat(n.getSpec().getUnschedulable()).isNotEqualTo(Boolean.TRUE);
      NodeClaim c = client.resources(NodeClaim.class).withName(claim.getMetadata().getName()).get();
      assertThat(c.getMetadata().getAnnotations()).containsKey(DovetailLabels.INTERRUPTION);
      assertThat(c.getMetadata().getAnnotations().get(DovetailLabels.INTERRUPTION)).startsWith("rebalance-recommendation@");
    });
    assertQueueDrained();
    // The recommendation does not take the node away: the claim stays and the pods stay where they are.
    Thread.sleep(2000);
    assertThat(client.resources(NodeClaim.class).withName(claim.getMetadata().getName()).get().getMetadata().getDeletionTimestamp()).isNull();
    assertThat(client.pods().inNamespace(ns.name()).list().getItems()).extracting(p -> p.getSpec().getNodeName()).containsOnly(node);
    assertThat(scrape()).containsPattern("karpenter_interruption_received_messages_total\\{message_type=\"no_op\"\\} [2-9]")
        .containsPattern("karpenter_interruption_received_messages_total\\{message_type=\"rebalance_recommendation\"\\} 1");

    // A terminated instance's claim is deleted and its pods move.
    put("aws.ec2", "EC2 Instance State-change Notification", "{\"instance-id\":\"" + instanceId(claim) + "\",\"state\":\"shutting-down\"}");
    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
      assertThat(client.resources(NodeClaim.class).withName(claim.getMetadata().getName()).get()).as(() -> ClusterDump.of(client, ns.name()))
          .isNull();
      assertThat(client.pods().inNamespace(ns.name()).list().getItems()).extracting(p -> p.getStatus().getPhase() + "@" + p.getSpec().getNodeName())
          .hasSize(3).allSatisfy(s -> assertThat(s).startsWith("Running@").doesNotEndWith(node));
    });
    assertThat(scrape()).containsPattern("karpenter_interruption_received_messages_total\\{message_type=\"instance_terminated\"\\} 1");
  }

  /** A pool of one zone, three pods of one CPU under a budget of two available, all on one node. */
  private static NodeClaim runThreePods(KubernetesClient client, TestNamespace ns, String label, boolean spotOnly) {
    client.resources(EC2NodeClass.class).resource(Fixtures.nodeClass(label)).create();
    client.resources(NodePool.class).resource(Fixtures.nodePool(label, label, label, null, null,
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_CATEGORY, "c", "m"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.INSTANCE_CPU, "4"),
        NodeSelectorRequirementWithMinValues.in(WellKnownLabels.ZONE, "us-east-1a"),
        spotOnly ? NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, "spot")
            : NodeSelectorRequirementWithMinValues.in(WellKnownLabels.CAPACITY_TYPE, "spot", "on-demand"))).create();
    client.policy().v1().podDisruptionBudget().inNamespace(ns.name()).resource(new PodDisruptionBudgetBuilder().withNewMetadata().withName("web")
        .endMetadata().withNewSpec().withMinAvailable(new IntOrString(2))
        .withSelector(new LabelSelectorBuilder().addToMatchLabels("app", "web").build()).endSpec().build()).create();
    client.apps().deployments().resource(Fixtures.deployment(ns.name(), "web", 3, "1", "1Gi", label)).create();
    await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> assertThat(client.pods().inNamespace(ns.name()).list().getItems())
        .as(() -> ClusterDump.of(client, ns.name())).hasSize(3).extracting(p -> p.getStatus().getPhase()).containsOnly("Running"));
    // The pods may run before the claim's status names its node (registration writes the Node first): wait for both.
    List<NodeClaim> claims = await().atMost(Duration.ofSeconds(30)).until(() -> ProvisioningE2EIT.claimsOf(client, label),
        found -> found.size() != 1 || found.get(0).getStatus().nodeName() != null);
    assertThat(claims).hasSize(1);
    assertThat(claims.get(0).getStatus().providerID()).startsWith("aws:///us-east-1a/i-");
    return claims.get(0);
  }

  private static String instanceId(NodeClaim claim) {
    String providerId = claim.getStatus().providerID();
    return providerId.substring(providerId.lastIndexOf('/') + 1);
  }

  private static void put(String source, String detailType, String detail) throws Exception {
    var response = events.putEvents(b -> b.entries(PutEventsRequestEntry.builder().source(source).detailType(detailType).detail(detail)
        .time(Instant.now()).resources("arn:aws:ec2:us-east-1:123456789012:instance").build())).get();
    assertThat(response.failedEntryCount()).isZero();
  }

  private static void assertQueueDrained() {
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
      Map<QueueAttributeName, String> attributes = sqs.getQueueAttributes(b -> b.queueUrl(queueUrl).attributeNames(
          QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES, QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE)).get().attributes();
      assertThat(attributes).containsEntry(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES, "0")
          .containsEntry(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE, "0");
    });
  }

  private static boolean readyAndNotDeleting(Pod p) {
    return p.getMetadata().getDeletionTimestamp() == null && p.getStatus().getConditions() != null
        && p.getStatus().getConditions().stream().anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  private static String scrape() {
    return dovetail.scrape();
  }
}
