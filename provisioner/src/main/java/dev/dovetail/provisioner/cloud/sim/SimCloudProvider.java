package dev.dovetail.provisioner.cloud.sim;

import dev.dovetail.api.aws.v1.AmiSelectorTerm;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.aws.v1.EC2NodeClassStatus;
import dev.dovetail.api.aws.v1.SecurityGroupSelectorTerm;
import dev.dovetail.api.aws.v1.SubnetSelectorTerm;
import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.config.v1alpha1.ReservedInstance;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.Taints;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.karpenter.v1.WellKnownTaints;
import dev.dovetail.api.scheduling.InstanceOption;
import dev.dovetail.api.scheduling.Offering;
import dev.dovetail.api.scheduling.Resources;
import dev.dovetail.provisioner.cloud.CloudProvider;
import dev.dovetail.provisioner.cloud.CloudProviderException;
import dev.dovetail.provisioner.cloud.Instance;
import dev.dovetail.provisioner.cloud.InstanceOptionCache;
import dev.dovetail.provisioner.cloud.LaunchPlan;
import dev.dovetail.provisioner.cloud.NodeClassConditions;
import dev.dovetail.provisioner.cloud.UnavailableOfferings;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.TaintBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cloud that runs on the cluster itself: launching an instance creates, after the boot delay, a
 * Node that kwok manages (kwok makes it Ready and runs its pods), with the labels, taints, capacity and
 * provider id a real instance's kubelet would register. Prices come from the catalog; faults
 * ({@link SimFaults}) are injected per offering and per call.
 *
 * <p>The Nodes are the cloud's durable record: each carries the NodeClaim it was launched for (as an
 * EC2 instance carries the {@code karpenter.sh/nodeclaim} tag), so a restarted provisioner finds the
 * instances it launched and never launches a second one for the same claim.
 */
public final class SimCloudProvider implements CloudProvider {
  private static final Logger LOG = LoggerFactory.getLogger(SimCloudProvider.class);
  /** Annotation on a simulated instance's Node: the NodeClaim it was launched for. */
  public static final String NODECLAIM_ANNOTATION = "sim.dovetail.dev/nodeclaim";
  /** Annotation on a simulated instance's Node: its hourly price, for cost reports. */
  public static final String PRICE_ANNOTATION = "sim.dovetail.dev/price-per-hour";

  /** The hourly price a launch recorded on the node; empty when there is none, or it is not a number (edited by hand). */
  public static OptionalDouble recordedPrice(Node node) {
    Map<String, String> annotations = node.getMetadata().getAnnotations();
    String value = annotations == null ? null : annotations.get(PRICE_ANNOTATION);
    if (value == null) {
      return OptionalDouble.empty();
    }
    try {
      double price = Double.parseDouble(value);
      return Double.isFinite(price) && price >= 0 ? OptionalDouble.of(price) : OptionalDouble.empty();
    } catch (NumberFormatException e) {
      return OptionalDouble.empty();
    }
  }
  public static final String KWOK_ANNOTATION = "kwok.x-k8s.io/node";
  static final String DEFAULT_IMAGE = "ami-0sim0al20230000000";

  private final KubernetesClient client;
  private final Catalog catalog;
  private final String clusterName;
  private final Supplier<SimFaults> faults;
  private final UnavailableOfferings unavailable;
  private final ScheduledExecutorService timer;
  private final Executor blocking;
  private final Clock clock;
  private final Supplier<List<Node>> nodes;
  /** Launched and not terminated, by provider id. */
  private final Map<String, Instance> instances = new ConcurrentHashMap<>();
  /** The provider id launched for each NodeClaim, so a second create returns the first instance. */
  private final Map<String, CompletableFuture<Instance>> launches = new ConcurrentHashMap<>();
  private final InstanceOptionCache optionCache;
  /** Terminated instances whose Node may still exist (the termination controller deletes it). */
  private final Set<String> terminated = ConcurrentHashMap.newKeySet();
  /** NodeClaims deleted while their launch was still under way: the launch must not go ahead. */
  private final Set<String> abandoned = ConcurrentHashMap.newKeySet();
  /** The account's Reserved Instances (from the ClusterOrchestratorConfig when its commitment integration is on). */
  private volatile Supplier<List<ReservedInstance>> commitments = List::of;
  /** Held while a launch on committed capacity counts what the commitment has left and takes it. */
  private final Object committing = new Object();

  /**
   * @param nodes the current Nodes (an informer's cache), where instances launched before a restart are found
   * @param blocking where Kubernetes API calls run (never a caller's thread)
   */
  public SimCloudProvider(KubernetesClient client, Catalog catalog, String clusterName, Supplier<SimFaults> faults,
      UnavailableOfferings unavailable, ScheduledExecutorService timer, Executor blocking, Clock clock, Supplier<List<Node>> nodes) {
    this.client = client;
    this.catalog = catalog;
    this.clusterName = clusterName;
    this.faults = faults;
    this.unavailable = unavailable;
    this.optionCache = new InstanceOptionCache(() -> catalog, unavailable, (nodeClass, current) -> committedOfferings(current));
    this.timer = timer;
    this.blocking = blocking;
    this.clock = clock;
    this.nodes = nodes;
  }

  @Override
  public String name() {
    return "sim";
  }

  // --- node classes -----------------------------------------------------------------------------

  /** Simulated subnets: one per zone of the region, tagged for discovery by the cluster's name. */
  static String subnetId(String zone) {
    return "subnet-0sim" + zone.substring(zone.lastIndexOf('-') + 1);
  }

  @Override
  public CompletionStage<EC2NodeClassStatus> resolve(EC2NodeClass nodeClass) {
    var spec = nodeClass.getSpec();
    long generation = nodeClass.getMetadata().getGeneration() == null ? 0 : nodeClass.getMetadata().getGeneration();
    Instant now = clock.instant();
    List<EC2NodeClassStatus.Subnet> subnets = new ArrayList<>();
    for (String zone : zones()) {
      String id = subnetId(zone);
      boolean matched = spec.subnetSelectorTerms() == null || spec.subnetSelectorTerms().stream().anyMatch(t -> matches(t, id));
      if (matched) {
        subnets.add(new EC2NodeClassStatus.Subnet(id, zone, "use1-az" + (zone.charAt(zone.length() - 1) - 'a' + 1)));
      }
    }
    List<EC2NodeClassStatus.SecurityGroup> groups = new ArrayList<>();
    if (spec.securityGroupSelectorTerms() != null) {
      for (SecurityGroupSelectorTerm t : spec.securityGroupSelectorTerms()) {
        groups.add(new EC2NodeClassStatus.SecurityGroup(t.id() != null ? t.id() : "sg-0sim0000000000001",
            t.name() != null ? t.name() : clusterName + "-node"));
      }
    }
    List<EC2NodeClassStatus.Ami> amis = new ArrayList<>();
    if (spec.amiSelectorTerms() != null) {
      for (AmiSelectorTerm t : spec.amiSelectorTerms()) {
        String base = t.id() != null ? t.id() : DEFAULT_IMAGE;
        String name = t.alias() != null ? t.alias() : t.name() != null ? t.name() : base;
        for (String arch : List.of("amd64", "arm64")) {
          amis.add(new EC2NodeClassStatus.Ami(arch.equals("amd64") ? base : base.replace("ami-0sim", "ami-1sim"), name + " (" + arch + ")",
              null, List.of(new EC2NodeClassStatus.AmiRequirement(WellKnownLabels.ARCH, "In", List.of(arch)))));
        }
      }
    }
    String profile = spec.instanceProfile() != null ? spec.instanceProfile() : clusterName + "_" + Math.abs((long) String.valueOf(spec.role()).hashCode());
    List<Condition> conditions = NodeClassConditions.of(generation, now, List.of(
        subnets.isEmpty() ? NodeClassConditions.Part.failed(ConditionTypes.SUBNETS_READY, "SubnetsNotFound", "no simulated subnet matches subnetSelectorTerms (sim subnets: "
            + zones().stream().map(SimCloudProvider::subnetId).collect(Collectors.joining(", ")) + ", all tagged)")
            : NodeClassConditions.Part.ok(ConditionTypes.SUBNETS_READY),
        groups.isEmpty() ? NodeClassConditions.Part.failed(ConditionTypes.SECURITY_GROUPS_READY, "SecurityGroupsNotFound", "no security group selector term")
            : NodeClassConditions.Part.ok(ConditionTypes.SECURITY_GROUPS_READY),
        amis.isEmpty() ? NodeClassConditions.Part.failed(ConditionTypes.AMIS_READY, "AMINotFound", "no AMI selector term") : NodeClassConditions.Part.ok("AMIsReady"),
        NodeClassConditions.Part.ok(ConditionTypes.INSTANCE_PROFILE_READY),
        NodeClassConditions.Part.ok(ConditionTypes.VALIDATION_SUCCEEDED)));
    return CompletableFuture.completedFuture(new EC2NodeClassStatus(subnets, groups, amis, List.of(), profile, conditions));
  }

  private static boolean matches(SubnetSelectorTerm term, String id) {
    // Every simulated subnet carries every tag: only an id term selects among them.
    return term.id() == null || term.id().equals(id);
  }

  private List<String> zones() {
    return catalog.all().stream().flatMap(t -> t.zones().stream()).distinct().sorted().toList();
  }

  // --- instance types -----------------------------------------------------------------------------

  @Override
  public CompletionStage<List<InstanceOption>> instanceOptions(EC2NodeClass nodeClass) {
    return CompletableFuture.completedFuture(optionsFor(nodeClass));
  }

  List<InstanceOption> optionsFor(EC2NodeClass nodeClass) {
    return optionCache.optionsFor(nodeClass);
  }

  @Override
  public void markUnavailable(String instanceType, String zone, String capacityType) {
    unavailable.mark(instanceType, zone, capacityType);
  }

  /** Where the simulated account's Reserved Instances come from (none until set). */
  public SimCloudProvider commitments(Supplier<List<ReservedInstance>> reservedInstances) {
    this.commitments = reservedInstances;
    return this;
  }

  @Override
  public List<ReservedInstance> reservedInstances() {
    return commitments.get();
  }

  /**
   * On-demand offerings an unused Reserved Instance covers (F12), by instance type: the reservation's zone
   * (or every zone of a regional one), at the effective price of capacity already paid for (a ten-millionth
   * of on-demand, as Karpenter prices reserved capacity, so larger types still cost more), launched before
   * spot. Gone once on-demand instances of the type use the whole commitment.
   */
  private Map<String, List<Offering>> committedOfferings(Catalog current) {
    List<ReservedInstance> reserved = commitments.get();
    if (reserved.isEmpty()) {
      return Map.of();
    }
    List<Instance> running = list().toCompletableFuture().join();
    Map<String, List<Offering>> out = new HashMap<>();
    for (ReservedInstance ri : reserved) {
      if (unused(ri, running) <= 0) {
        continue;
      }
      current.get(ri.instanceType()).ifPresent(t -> t.zones().stream().filter(z -> ri.covers(t.name(), z))
          .forEach(z -> out.computeIfAbsent(t.name(), k -> new ArrayList<>())
              .add(new Offering(z, CapacityType.ON_DEMAND, t.pricePerHour(CapacityType.ON_DEMAND, z) / 10_000_000, true, true))));
    }
    return out;
  }

  /**
   * What a Reserved Instance has left: its count less the on-demand instances it covers among those running
   * now, those launched before a restart (found on their Nodes) included.
   */
  private static int unused(ReservedInstance ri, List<Instance> running) {
    long used = running.stream().filter(i -> i.capacityType() == CapacityType.ON_DEMAND && ri.covers(i.instanceType(), i.zone())).count();
    return (int) Math.max(0, ri.count() - used);
  }

  /** Whether a commitment covering this offering has room left now. */
  private boolean committedRoom(String instanceType, String zone) {
    List<Instance> running = list().toCompletableFuture().join();
    return commitments.get().stream().anyMatch(ri -> ri.covers(instanceType, zone) && unused(ri, running) > 0);
  }

  // --- instances ----------------------------------------------------------------------------------

  @Override
  public CompletionStage<Instance> create(NodeClaim claim, EC2NodeClass nodeClass) {
    String claimName = claim.getMetadata().getName();
    Optional<Instance> adopted = fromNodes().stream().filter(i -> i.nodeClaim().equals(claimName)).findFirst();
    if (adopted.isPresent()) {
      instances.putIfAbsent(adopted.get().providerId(), adopted.get());
      return CompletableFuture.completedFuture(adopted.get());
    }
    CompletableFuture<Instance> launch = new CompletableFuture<>();
    CompletableFuture<Instance> earlier = launches.putIfAbsent(claimName, launch);
    if (earlier != null && !earlier.isCompletedExceptionally()) {
      return earlier;
    }
    if (earlier != null) {
      launches.put(claimName, launch);
    }
    SimFaults f = faults.get();
    Runnable attempt = () -> {
      try {
        launch.complete(launch(claim, nodeClass, f));
      } catch (RuntimeException e) {
        launch.completeExceptionally(e);
      }
    };
    if (f.launchLatency().isZero()) {
      attempt.run();
    } else {
      timer.schedule(attempt, f.launchLatency().toMillis(), TimeUnit.MILLISECONDS);
    }
    return launch;
  }

  private Instance launch(NodeClaim claim, EC2NodeClass nodeClass, SimFaults f) {
    if (abandoned.remove(claim.getMetadata().getName())) {
      throw new CloudProviderException.LaunchFailed("NodeClaim " + claim.getMetadata().getName() + " was deleted before its launch", null);
    }
    if (f.launchFailureRate() > 0 && ThreadLocalRandom.current().nextDouble() < f.launchFailureRate()) {
      throw new CloudProviderException.LaunchFailed("simulated launch failure (launchFailureRate " + f.launchFailureRate() + ")", null);
    }
    LaunchPlan plan = LaunchPlan.of(claim, optionsFor(nodeClass));
    if (plan.candidates().isEmpty()) {
      throw new CloudProviderException.InsufficientCapacity("no instance type in the claim's requirements has an available offering "
          + "that fits its requests " + plan.requests().amounts());
    }
    List<String> tried = new ArrayList<>();
    for (LaunchPlan.Candidate c : plan.candidates()) {
      Offering o = c.offering();
      if (f.noCapacity(c.option().name(), o.zone(), o.capacityType())) {
        tried.add(c.option().name() + "/" + o.zone() + "/" + o.capacityType().label());
        markUnavailable(c.option().name(), o.zone(), o.capacityType().label());
        continue;
      }
      Instance instance = instance(claim, nodeClass, c);
      if (o.committed()) {
        // Launches run in parallel: counting what the commitment has left and taking it go together, so it is never exceeded.
        synchronized (committing) {
          if (!committedRoom(c.option().name(), o.zone())) {
            continue;
          }
          instances.put(instance.providerId(), instance);
        }
      } else {
        instances.put(instance.providerId(), instance);
      }
      if (abandoned.remove(claim.getMetadata().getName())) {
        // Deleted while this launch ran and before the instance was recorded, so the deletion could not find it: it goes now.
        instances.remove(instance.providerId());
        terminated.add(instance.providerId());
        throw new CloudProviderException.LaunchFailed("NodeClaim " + claim.getMetadata().getName() + " was deleted during its launch", null);
      }
      LOG.info("sim: launched {} ({} {} {}, ${}/h) for NodeClaim {}", instance.instanceId(), instance.instanceType(), instance.zone(),
          instance.capacityType().label(), instance.pricePerHour(), instance.nodeClaim());
      scheduleRegistration(claim, instance, f);
      return instance;
    }
    throw new CloudProviderException.InsufficientCapacity("insufficient capacity for all " + tried.size() + " offerings tried ("
        + String.join(", ", tried.subList(0, Math.min(5, tried.size()))) + (tried.size() > 5 ? ", ..." : "") + ")");
  }

  private Instance instance(NodeClaim claim, EC2NodeClass nodeClass, LaunchPlan.Candidate c) {
    String id = "i-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()).substring(0, 16) + "f";
    String arch = c.option().requirements().singleValues().getOrDefault(WellKnownLabels.ARCH, "amd64");
    String image = nodeClass.getStatus() == null || nodeClass.getStatus().amis() == null ? DEFAULT_IMAGE
        : nodeClass.getStatus().amis().stream().filter(a -> a.requirements().stream().anyMatch(r -> r.values() != null && r.values().contains(arch)))
            .map(EC2NodeClassStatus.Ami::id).findFirst().orElse(DEFAULT_IMAGE);
    return Instance.launched(id, claim.getMetadata().getName(), c, image, clock.instant());
  }

  private void scheduleRegistration(NodeClaim claim, Instance instance, SimFaults f) {
    Runnable register = () -> blocking.execute(() -> registerNode(claim, instance, 1));
    if (f.bootDelay().isZero()) {
      register.run();
    } else {
      timer.schedule(register, f.bootDelay().toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** What the instance's kubelet does when it starts: register its Node, tainted unregistered. */
  private void registerNode(NodeClaim claim, Instance instance, int attempt) {
    if (!instances.containsKey(instance.providerId())) {
      return;  // terminated while booting
    }
    Map<String, String> labels = new LinkedHashMap<>();
    if (claim.getMetadata().getLabels() != null) {
      labels.putAll(claim.getMetadata().getLabels());
    }
    labels.putAll(instance.labels());
    String nodeName = nodeName(instance);
    labels.put(WellKnownLabels.HOSTNAME, nodeName);
    List<Taint> taints = new ArrayList<>();
    var spec = claim.getSpec();
    taints.addAll(Taints.toKubernetes(spec.taints()));
    taints.addAll(Taints.toKubernetes(spec.startupTaints()));
    taints.add(new TaintBuilder().withKey(WellKnownTaints.UNREGISTERED).withEffect("NoExecute").build());
    Node node = new NodeBuilder()
        .withNewMetadata().withName(nodeName).withLabels(labels)
        .addToAnnotations(KWOK_ANNOTATION, "fake")
        .addToAnnotations(NODECLAIM_ANNOTATION, instance.nodeClaim())
        .addToAnnotations(PRICE_ANNOTATION, String.valueOf(instance.pricePerHour()))
        .endMetadata()
        .withNewSpec().withProviderID(instance.providerId()).withTaints(taints).endSpec()
        .withNewStatus().withCapacity(instance.capacity().toQuantities()).withAllocatable(instance.allocatable().toQuantities())
        .withNewNodeInfo().withArchitecture(labels.getOrDefault(WellKnownLabels.ARCH, "amd64")).withOperatingSystem("linux")
        .withKubeletVersion("v1.34.4-sim").withKubeProxyVersion("").withContainerRuntimeVersion("containerd://sim")
        .withKernelVersion("").withOsImage(instance.imageId()).withMachineID(instance.instanceId()).withSystemUUID(instance.instanceId())
        .withBootID(instance.instanceId()).endNodeInfo()
        .endStatus()
        .build();
    try {
      client.nodes().resource(node).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        return;
      }
      if (attempt < 10) {
        LOG.warn("sim: registering node {} failed (attempt {}), retrying: {}", nodeName, attempt, e.getMessage());
        timer.schedule(() -> blocking.execute(() -> registerNode(claim, instance, attempt + 1)), 200L * attempt, TimeUnit.MILLISECONDS);
      } else {
        LOG.error("sim: giving up registering node {} for {}: {}", nodeName, instance.nodeClaim(), e.getMessage());
      }
    }
  }

  /** EC2's private DNS name form, from the instance id (stable for the instance). */
  static String nodeName(Instance instance) {
    long h = instance.instanceId().hashCode() & 0xffffffL;
    return "ip-10-" + ((h >> 16) & 0xff) + "-" + ((h >> 8) & 0xff) + "-" + (h & 0xff) + "." + instance.instanceId().substring(2, 8) + ".ec2.internal";
  }

  @Override
  public CompletionStage<Void> delete(NodeClaim claim) {
    String providerId = claim.getStatus() == null ? null : claim.getStatus().providerID();
    String claimName = claim.getMetadata().getName();
    CompletableFuture<Instance> launch = launches.remove(claimName);
    if (launch != null && !launch.isDone()) {
      abandoned.add(claimName);
    }
    Instance removed = providerId == null ? null : instances.remove(providerId);
    if (removed == null) {
      // The claim has not recorded its instance (deleted while the launch's answer was on its way): found by the claim's name, as EC2 finds it by tag.
      removed = instances.values().stream().filter(i -> i.nodeClaim().equals(claimName)).findFirst().map(i -> instances.remove(i.providerId()))
          .orElse(null);
    }
    if (removed == null) {
      Optional<Instance> onNode = fromNodes().stream().filter(i -> i.nodeClaim().equals(claimName)).findFirst();
      if (onNode.isPresent() && !terminated.contains(onNode.get().providerId())) {
        terminated.add(onNode.get().providerId());
        return CompletableFuture.completedFuture(null);
      }
      return CompletableFuture.failedFuture(new CloudProviderException.NotFound("no simulated instance for NodeClaim " + claimName));
    }
    terminated.add(removed.providerId());
    LOG.info("sim: terminated {} ({}) of NodeClaim {}", removed.instanceId(), removed.instanceType(), claimName);
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public CompletionStage<Instance> get(String providerId) {
    if (terminated.contains(providerId)) {
      return CompletableFuture.failedFuture(new CloudProviderException.NotFound("instance " + providerId + " is terminated"));
    }
    Instance known = instances.get(providerId);
    if (known != null) {
      return CompletableFuture.completedFuture(known);
    }
    return fromNodes().stream().filter(i -> i.providerId().equals(providerId)).findFirst()
        .<CompletionStage<Instance>>map(CompletableFuture::completedFuture)
        .orElseGet(() -> CompletableFuture.failedFuture(new CloudProviderException.NotFound("no simulated instance " + providerId)));
  }

  @Override
  public CompletionStage<List<Instance>> list() {
    Map<String, Instance> all = new LinkedHashMap<>();
    fromNodes().forEach(i -> all.put(i.providerId(), i));
    all.putAll(instances);
    terminated.forEach(all::remove);
    return CompletableFuture.completedFuture(List.copyOf(all.values()));
  }

  /** Instances recorded on Nodes (launched by this or an earlier provisioner process). */
  private List<Instance> fromNodes() {
    List<Instance> out = new ArrayList<>();
    for (Node n : nodes.get()) {
      Map<String, String> annotations = n.getMetadata().getAnnotations();
      String claim = annotations == null ? null : annotations.get(NODECLAIM_ANNOTATION);
      String providerId = n.getSpec() == null ? null : n.getSpec().getProviderID();
      if (claim == null || providerId == null) {
        continue;
      }
      Map<String, String> labels = n.getMetadata().getLabels() == null ? Map.of() : n.getMetadata().getLabels();
      CapacityType type = CapacityType.fromLabel(labels.getOrDefault(WellKnownLabels.CAPACITY_TYPE, "on-demand")).orElse(CapacityType.ON_DEMAND);
      double price = annotations.containsKey(PRICE_ANNOTATION) ? Double.parseDouble(annotations.get(PRICE_ANNOTATION)) : Double.NaN;
      Resources capacity = n.getStatus() == null ? Resources.NONE : Resources.of(n.getStatus().getCapacity());
      Resources allocatable = n.getStatus() == null ? Resources.NONE : Resources.of(n.getStatus().getAllocatable());
      out.add(new Instance(providerId, claim, labels.getOrDefault(WellKnownLabels.INSTANCE_TYPE, ""), labels.getOrDefault(WellKnownLabels.ZONE, ""),
          type, price, capacity, allocatable, n.getStatus() != null && n.getStatus().getNodeInfo() != null ? n.getStatus().getNodeInfo().getOsImage() : "",
          labels, n.getMetadata().getCreationTimestamp() == null ? Instant.EPOCH : Instant.parse(n.getMetadata().getCreationTimestamp())));
    }
    return out;
  }
}
