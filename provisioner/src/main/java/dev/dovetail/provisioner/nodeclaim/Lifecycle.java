package dev.dovetail.provisioner.nodeclaim;

import dev.dovetail.runtime.Failures;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.distribution.PodFacts;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeClaimStatus;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.Resources;
import dev.dovetail.provisioner.cloud.CloudProvider;
import dev.dovetail.provisioner.cloud.CloudProviderException;
import dev.dovetail.provisioner.cloud.Instance;
import dev.dovetail.provisioner.cluster.Caches;
import dev.dovetail.provisioner.controller.Controller.Result;
import dev.dovetail.runtime.Recorder;
import dev.dovetail.provisioner.metrics.KarpenterMetrics;
import dev.dovetail.provisioner.provisioning.Nominations;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.TaintBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * A NodeClaim's way to a Ready node, as Karpenter's lifecycle controller does it: launch through the
 * cloud provider ({@code Launched}), find the Node with the instance's provider id and take it over
 * (labels, taints, finalizer, owner; the {@code karpenter.sh/unregistered} taint removed:
 * {@code Registered}), wait for it to be Ready without startup taints ({@code Initialized}), and roll
 * these up into {@code Ready}. A claim whose instance has no capacity is deleted so its pods are
 * simulated again; one whose node does not register in time, or whose instance vanished, too.
 */
public final class Lifecycle {
  private static final Logger LOG = LoggerFactory.getLogger(Lifecycle.class);
  public static final String UNREGISTERED_TAINT = "karpenter.sh/unregistered";
  public static final String DISRUPTED_TAINT = WellKnownLabels.DISRUPTED_TAINT;
  public static final String DO_NOT_SYNC_TAINTS = WellKnownLabels.DO_NOT_SYNC_TAINTS;
  public static final Duration REGISTRATION_TTL = Duration.ofMinutes(15);
  public static final Duration LAUNCH_TTL = Duration.ofMinutes(5);
  /** How often an unregistered claim checks that its instance still exists. */
  static final Duration INSTANCE_CHECK = Duration.ofSeconds(30);

  private final KubernetesClient client;
  private final Caches caches;
  private final CloudProvider cloud;
  private final Recorder events;
  private final KarpenterMetrics metrics;
  private final Clock clock;
  private final Runnable capacityChanged;
  private final Termination termination;
  private final Duration registrationTtl;
  private final Duration launchGroupWait;
  private final Nominations nominations;
  private volatile java.util.function.Consumer<String> groupReleased = c -> { };
  private final Writer writer;

  /**
   * @param capacityChanged called when a claim goes away without a node (its pods need new capacity)
   */
  public Lifecycle(KubernetesClient client, Caches caches, CloudProvider cloud, Recorder events, KarpenterMetrics metrics, Clock clock,
      Runnable capacityChanged, Termination termination, Duration registrationTtl, Duration launchGroupWait, Nominations nominations) {
    this.client = client;
    this.caches = caches;
    this.cloud = cloud;
    this.events = events;
    this.metrics = metrics;
    this.clock = clock;
    this.capacityChanged = capacityChanged;
    this.termination = termination;
    this.registrationTtl = registrationTtl;
    this.launchGroupWait = launchGroupWait;
    this.nominations = nominations;
    this.writer = new Writer(client);
  }

  public CompletionStage<Result> reconcile(String name) {
    Optional<NodeClaim> cached = caches.nodeClaim(name);
    if (cached.isEmpty()) {
      return Result.done();
    }
    NodeClaim claim = cached.get();
    MDC.put("nodeclaim", name);
    MDC.put("nodepool", NodeClaims.pool(claim));
    try {
      if (claim.getMetadata().getDeletionTimestamp() != null) {
        return termination.reconcile(claim);
      }
      Optional<Duration> lifeLeft = Expiration.remaining(claim, clock.instant());
      if (lifeLeft.filter(Expiration::due).isPresent()) {
        return expire(claim);
      }
      List<Condition> conditions = claim.getStatus() == null ? null : claim.getStatus().conditions();
      if (!Conditions.isTrue(conditions, "Launched")) {
        return launch(claim);
      }
      Optional<Node> node = nodeOf(claim);
      if (node.isPresent() && node.get().getMetadata().getDeletionTimestamp() != null) {
        // Someone deleted the Node: terminate its claim the same way (drain, then the instance).
        LOG.info("node {} of NodeClaim {} is being deleted; deleting the NodeClaim", node.get().getMetadata().getName(), name);
        deleteClaim(claim);
        return Result.done();
      }
      if (!Conditions.isTrue(conditions, "Registered")) {
        return register(claim, node);
      }
      if (node.isEmpty()) {
        return instanceGone(claim);
      }
      if (!Conditions.isTrue(conditions, "Initialized")) {
        return initialize(claim, node.get());
      }
      // Looked at again when it expires (sooner on any change to it or its node).
      return lifeLeft.map(Result::requeue).orElseGet(Result::done);
    } finally {
      MDC.remove("nodeclaim");
      MDC.remove("nodepool");
    }
  }

  private Optional<Node> nodeOf(NodeClaim claim) {
    String providerId = claim.getStatus() == null ? null : claim.getStatus().providerID();
    return providerId == null ? Optional.empty() : caches.nodeByProviderId(providerId);
  }

  // --- launch -------------------------------------------------------------------------------------

  private CompletionStage<Result> launch(NodeClaim claim) {
    String name = claim.getMetadata().getName();
    String pool = NodeClaims.pool(claim);
    var ref = claim.getSpec().nodeClassRef();
    Optional<EC2NodeClass> nodeClass = ref == null ? Optional.empty() : caches.nodeClass(ref.name());
    if (nodeClass.isEmpty()) {
      writeStatus(claim, status(claim, null, "Launched", Condition.Status.False, "NodeClassNotFound",
          "EC2NodeClass " + (ref == null ? "(none)" : ref.name()) + " not found"));
      return Result.requeue(Duration.ofSeconds(30));
    }
    if (age(claim).compareTo(LAUNCH_TTL) > 0 && Conditions.get(claim.getStatus() == null ? null : claim.getStatus().conditions(), "Launched")
        .map(c -> c.status() == Condition.Status.False).orElse(false)) {
      events.warning(claim, "LaunchTimeout", "NodeClaim was not launched within " + LAUNCH_TTL.toMinutes() + "m; deleting it");
      metrics.nodeClaimDisrupted("liveness", pool, "");
      deleteClaim(claim);
      capacityChanged.run();
      return Result.done();
    }
    long start = System.nanoTime();
    return cloud.create(claim, nodeClass.get()).handle((instance, error) -> {
      metrics.cloudProviderDuration("Create", cloud.name()).record(Duration.ofNanos(System.nanoTime() - start));
      if (error == null) {
        launched(claim, instance);
        return Result.DONE;
      }
      Throwable cause = Failures.cause(error);
      if (cause instanceof CloudProviderException.InsufficientCapacity ice) {
        metrics.cloudProviderError("Create", cloud.name(), "InsufficientCapacityError");
        metrics.launchFailure("", capacityTypeOf(claim), "InsufficientCapacity");
        LOG.warn("NodeClaim {} could not launch: {}", name, ice.getMessage());
        events.warning(claim, "InsufficientCapacityError", "NodeClaim " + name + " event: creating nodeclaim, " + ice.getMessage());
        deleteClaim(claim);
        capacityChanged.run();
        return Result.DONE;
      }
      metrics.cloudProviderError("Create", cloud.name(), cause.getClass().getSimpleName());
      events.warning(claim, "LaunchFailed", "launching NodeClaim failed: " + cause.getMessage());
      writeStatus(claim, status(claim, null, "Launched", Condition.Status.False, "LaunchFailed", cause.getMessage()));
      throw new CompletionException(cause);
    });
  }

  private void launched(NodeClaim claim, Instance instance) {
    String name = claim.getMetadata().getName();
    Map<String, String> labels = new LinkedHashMap<>(instance.labels());
    labels.keySet().removeIf(k -> k.equals(WellKnownLabels.HOSTNAME));
    // The label patch returns the new resourceVersion, which the status update then holds to.
    NodeClaim patched = writer.patchMetadata(NodeClaim.class, name, Map.of("labels", labels));
    NodeClaimStatus before = claim.getStatus();
    List<Condition> conditions = before == null ? null : before.conditions();
    Instant now = clock.instant();
    long generation = generation(claim);
    conditions = Conditions.set(conditions, "Launched", Condition.Status.True, "Launched", "", generation, now);
    for (String pending : List.of("Registered", "Initialized")) {
      if (Conditions.get(conditions, pending).isEmpty()) {
        conditions = Conditions.set(conditions, pending, Condition.Status.Unknown, "AwaitingReconciliation", "object is awaiting reconciliation",
            generation, now);
      }
    }
    conditions = Conditions.set(conditions, "Ready", Condition.Status.Unknown, "UnhealthyDependents", "Registered=Unknown, Initialized=Unknown",
        generation, now);
    NodeClaimStatus status = new NodeClaimStatus(null, instance.providerId(), instance.imageId(), instance.capacity().toQuantities(),
        instance.allocatable().toQuantities(), before == null ? null : before.lastPodEventTime(), conditions);
    writeStatus(patched != null ? patched : claim, status);
    metrics.nodeClaimLaunched(NodeClaims.pool(claim));
    events.normal(claim, "Launched", "Status condition transitioned, Type: Launched, Status: Unknown -> True, Reason: Launched ("
        + instance.instanceType() + " " + instance.capacityType().label() + " in " + instance.zone() + ", " + instance.instanceId() + ")");
    LOG.info("launched NodeClaim {} as {} ({} {} {})", name, instance.instanceId(), instance.instanceType(), instance.capacityType().label(),
        instance.zone());
  }

  private static String capacityTypeOf(NodeClaim claim) {
    return claim.getMetadata().getLabels() == null ? "" : claim.getMetadata().getLabels().getOrDefault(WellKnownLabels.CAPACITY_TYPE, "");
  }

  // --- registration -------------------------------------------------------------------------------

  private CompletionStage<Result> register(NodeClaim claim, Optional<Node> node) {
    if (node.isEmpty()) {
      Duration waited = sinceLaunched(claim);
      if (waited.compareTo(registrationTtl) >= 0) {
        events.warning(claim, "FailedRegistration", "NodeClaim did not register a node within " + registrationTtl.toMinutes()
            + "m; deleting it so its pods get new capacity");
        metrics.nodeClaimDisrupted("liveness", NodeClaims.pool(claim), capacityTypeOf(claim));
        deleteClaim(claim);
        capacityChanged.run();
        return Result.done();
      }
      return cloud.get(claim.getStatus().providerID()).handle((instance, error) -> {
        Throwable cause = Failures.cause(error);
        if (cause instanceof CloudProviderException.NotFound) {
          return instanceGone(claim).toCompletableFuture().join();
        }
        Duration left = registrationTtl.minus(waited);
        return Result.after(left.compareTo(INSTANCE_CHECK) < 0 ? left : INSTANCE_CHECK);
      });
    }
    Optional<String> waiting = launchGroupPending(claim);
    if (waiting.isPresent()) {
      LOG.debug("NodeClaim {} holds its node back: {}", claim.getMetadata().getName(), waiting.get());
      return Result.requeue(Duration.ofMillis(500));
    }
    Node n = node.get();
    String nodeName = n.getMetadata().getName();
    nominate(claim, nodeName);
    String group = claim.getMetadata().getAnnotations() == null ? null : claim.getMetadata().getAnnotations().get(DovetailLabels.LAUNCH_GROUP);
    if (!nominations.groupNominated(group) && age(claim).compareTo(launchGroupWait) < 0) {
      LOG.debug("NodeClaim {} holds its node back until the pods of its launch group are nominated", claim.getMetadata().getName());
      return Result.requeue(Duration.ofMillis(50));
    }
    syncNode(claim, n);
    NodeClaimStatus before = claim.getStatus();
    List<Condition> conditions = Conditions.set(before.conditions(), "Registered", Condition.Status.True, "Registered", "", generation(claim),
        clock.instant());
    writeStatus(claim, new NodeClaimStatus(nodeName, before.providerID(), before.imageID(), before.capacity(), before.allocatable(),
        before.lastPodEventTime(), rollUp(conditions, claim)));
    metrics.nodeClaimRegistered(NodeClaims.pool(claim));
    metrics.nodeCreated(NodeClaims.pool(claim), n.getMetadata().getLabels() == null ? "" : n.getMetadata().getLabels().getOrDefault(WellKnownLabels.ZONE, ""));
    events.normal(claim, "Registered", "Status condition transitioned, Type: Registered, Status: Unknown -> True, Reason: Registered (node "
        + nodeName + ")");
    LOG.info("NodeClaim {} registered node {}", claim.getMetadata().getName(), nodeName);
    // Initialization usually follows at once (the node is Ready): look again right away.
    return Result.requeue(Duration.ofMillis(1));
  }

  /**
   * Points the pods planned for this claim at its node before the node takes pods: kube-scheduler
   * then tries that node first for them and keeps their room there while placing others. Pods under
   * topology spread get the planned-node hint the extender ranks by instead (see {@link Nominations.PodRef}).
   */
  private void nominate(NodeClaim claim, String nodeName) {
    int nominated = 0;
    for (Nominations.Guidance guidance : nominations.take(claim.getMetadata().getName())) {
      Nominations.PodRef ref = guidance.pod();
      Optional<Pod> pod = caches.pod(ref.namespace(), ref.name());
      if (pod.isEmpty() || !ref.uid().equals(pod.get().getMetadata().getUid()) || pod.get().getMetadata().getDeletionTimestamp() != null
          || (pod.get().getSpec() != null && pod.get().getSpec().getNodeName() != null)) {
        continue;
      }
      try {
        // The hint first: changing the pod's metadata sends it back to the scheduling queue, where an attempt
        // before the node is released would clear a nomination already made.
        String planned = PodFacts.plannedNodesAnnotation(plannedNodes(guidance.plannedClaims(), claim.getMetadata().getName(), nodeName));
        client.pods().inNamespace(ref.namespace()).withName(ref.name()).patch(PatchContext.of(PatchType.JSON_MERGE),
            Serialization.asJson(Map.of("metadata", Map.of("annotations", Map.of(DovetailLabels.PLANNED_NODES, planned)))));
        if (!ref.spread()) {
          client.pods().inNamespace(ref.namespace()).withName(ref.name()).subresource("status")
              .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"nominatedNodeName\":\"" + nodeName + "\"}}");
        }
        nominations.podReleased(ref.uid(), System.nanoTime());
        nominated++;
      } catch (KubernetesClientException e) {
        LOG.debug("pod {}/{} not nominated to {}: {}", ref.namespace(), ref.name(), nodeName, e.getMessage());
      }
    }
    Set<String> released = nominations.nominated(claim.getMetadata().getName());
    // The last claim of a launch group to have its pods nominated wakes the others at once, so the
    // group's nodes are untainted within moments of each other.
    released.forEach(c -> groupReleased.accept(c));
    if (nominated > 0) {
      LOG.debug("nominated {} pods to node {} of NodeClaim {}", nominated, nodeName, claim.getMetadata().getName());
    }
  }

  /** Where the claims of a launch group go when it is released (the lifecycle controller's queue). */
  public void onGroupReleased(java.util.function.Consumer<String> requeue) {
    this.groupReleased = requeue;
  }

  /** Nominates again the claim's planned pods that are still pending and lost their nomination. */
  private void renominate(NodeClaim claim, String nodeName) {
    int again = 0;
    for (Nominations.PodRef ref : nominations.takeReleased(claim.getMetadata().getName())) {
      Optional<Pod> pod = caches.pod(ref.namespace(), ref.name());
      if (pod.isEmpty() || !ref.uid().equals(pod.get().getMetadata().getUid()) || pod.get().getSpec().getNodeName() != null
          || pod.get().getMetadata().getDeletionTimestamp() != null
          || (pod.get().getStatus() != null && pod.get().getStatus().getNominatedNodeName() != null
              && !pod.get().getStatus().getNominatedNodeName().isEmpty())) {
        continue;
      }
      try {
        client.pods().inNamespace(ref.namespace()).withName(ref.name()).subresource("status")
            .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"nominatedNodeName\":\"" + nodeName + "\"}}");
        again++;
      } catch (KubernetesClientException e) {
        LOG.debug("pod {}/{} not nominated again to {}: {}", ref.namespace(), ref.name(), nodeName, e.getMessage());
      }
    }
    if (again > 0) {
      LOG.debug("nominated {} pods again to node {} of NodeClaim {}", again, nodeName, claim.getMetadata().getName());
    }
  }

  /** The nodes of the given claims (this one's is known; the others' through their provider IDs), with the counts. */
  private Map<String, Integer> plannedNodes(Map<String, Integer> claims, String self, String selfNode) {
    Map<String, Integer> out = new java.util.TreeMap<>();
    claims.forEach((name, count) -> {
      if (name.equals(self)) {
        out.put(selfNode, count);
      } else {
        caches.nodeClaim(name).map(NodeClaim::getStatus).map(NodeClaimStatus::providerID).flatMap(caches::nodeByProviderId)
            .ifPresent(n -> out.put(n.getMetadata().getName(), count));
      }
    });
    return out;
  }

  /**
   * Nodes launched in one provisioning pass are released to the scheduler together (their
   * unregistered taint removed at once), at most {@code launchGroupWait} after the claim was created:
   * released one by one, the first nodes would take pods planned for the others, and zone spread would
   * count only the zones already up.
   */
  private Optional<String> launchGroupPending(NodeClaim claim) {
    Map<String, String> annotations = claim.getMetadata().getAnnotations();
    String group = annotations == null ? null : annotations.get(DovetailLabels.LAUNCH_GROUP);
    if (group == null || age(claim).compareTo(launchGroupWait) >= 0) {
      return Optional.empty();
    }
    long pending = caches.launchGroup(group).stream()
        .filter(c -> !c.getMetadata().getName().equals(claim.getMetadata().getName()) && c.getMetadata().getDeletionTimestamp() == null)
        .filter(c -> c.getStatus() == null || c.getStatus().providerID() == null || caches.nodeByProviderId(c.getStatus().providerID()).isEmpty())
        .count();
    return pending == 0 ? Optional.empty() : Optional.of(pending + " NodeClaims launched with it have no node yet");
  }

  /**
   * Takes the Node over: the claim's labels and annotations, {@code karpenter.sh/registered}, its
   * taints (unless the node manages its own), the termination finalizer and an owner reference, and
   * the unregistered taint removed, in one patch.
   */
  private void syncNode(NodeClaim claim, Node node) {
    Map<String, String> labels = new LinkedHashMap<>();
    if (claim.getMetadata().getLabels() != null) {
      labels.putAll(claim.getMetadata().getLabels());
    }
    labels.put(WellKnownLabels.REGISTERED, "true");
    Map<String, String> annotations = new LinkedHashMap<>();
    if (claim.getMetadata().getAnnotations() != null) {
      annotations.putAll(claim.getMetadata().getAnnotations());
    }
    Map<String, String> nodeLabels = node.getMetadata().getLabels() == null ? Map.of() : node.getMetadata().getLabels();
    List<Taint> taints = new ArrayList<>();
    Set<String> present = new HashSet<>();
    if (node.getSpec() != null && node.getSpec().getTaints() != null) {
      for (Taint t : node.getSpec().getTaints()) {
        if (!UNREGISTERED_TAINT.equals(t.getKey())) {
          taints.add(t);
          present.add(t.getKey() + ":" + t.getEffect());
        }
      }
    }
    if (!"true".equals(nodeLabels.get(DO_NOT_SYNC_TAINTS))) {
      List<dev.dovetail.api.karpenter.v1.Taint> wanted = new ArrayList<>();
      if (claim.getSpec().taints() != null) {
        wanted.addAll(claim.getSpec().taints());
      }
      if (claim.getSpec().startupTaints() != null && !"true".equals(nodeLabels.get(WellKnownLabels.REGISTERED))) {
        wanted.addAll(claim.getSpec().startupTaints());
      }
      for (var t : wanted) {
        if (present.add(t.key() + ":" + t.effect().name())) {
          taints.add(new TaintBuilder().withKey(t.key()).withValue(t.value()).withEffect(t.effect().name()).build());
        }
      }
    }
    List<String> finalizers = new ArrayList<>(node.getMetadata().getFinalizers() == null ? List.of() : node.getMetadata().getFinalizers());
    if (!finalizers.contains(NodeClaims.TERMINATION_FINALIZER)) {
      finalizers.add(NodeClaims.TERMINATION_FINALIZER);
    }
    Map<String, Object> metadata = new LinkedHashMap<>();
    metadata.put("labels", labels);
    metadata.put("annotations", annotations);
    metadata.put("finalizers", finalizers);
    metadata.put("resourceVersion", node.getMetadata().getResourceVersion());
    metadata.put("ownerReferences", List.of(Map.of("apiVersion", claim.getApiVersion(), "kind", claim.getKind(),
        "name", claim.getMetadata().getName(), "uid", claim.getMetadata().getUid(), "blockOwnerDeletion", true)));
    // With the cached resourceVersion: if the node changed meanwhile, this fails and is retried.
    writer.mergePatch(Node.class, node.getMetadata().getName(), Map.of("metadata", metadata, "spec", Map.of("taints", taints)));
  }

  // --- initialization -----------------------------------------------------------------------------

  private CompletionStage<Result> initialize(NodeClaim claim, Node node) {
    Optional<String> waiting = notInitialized(claim, node);
    if (waiting.isPresent()) {
      List<Condition> conditions = claim.getStatus().conditions();
      Optional<Condition> current = Conditions.get(conditions, "Initialized");
      if (current.isEmpty() || !waiting.get().equals(current.get().message())) {
        List<Condition> updated = Conditions.set(conditions, "Initialized", Condition.Status.Unknown, "NotInitialized", waiting.get(),
            generation(claim), clock.instant());
        writeStatus(claim, withConditions(claim.getStatus(), rollUp(updated, claim)));
      }
      return Result.requeue(Duration.ofSeconds(30));  // node and pod events requeue sooner
    }
    renominate(claim, node.getMetadata().getName());
    patchMetadata(Node.class, node.getMetadata().getName(), Map.of("labels", Map.of(WellKnownLabels.INITIALIZED, "true")));
    List<Condition> conditions = Conditions.set(claim.getStatus().conditions(), "Initialized", Condition.Status.True, "Initialized", "",
        generation(claim), clock.instant());
    writeStatus(claim, withConditions(claim.getStatus(), rollUp(conditions, claim)));
    metrics.nodeClaimInitialized(NodeClaims.pool(claim));
    LOG.info("NodeClaim {} initialized (node {})", claim.getMetadata().getName(), node.getMetadata().getName());
    return Result.done();
  }

  /** Why the node is not initialized yet: not Ready, startup or lifecycle taints left, resources not registered. */
  static Optional<String> notInitialized(NodeClaim claim, Node node) {
    boolean ready = node.getStatus() != null && node.getStatus().getConditions() != null
        && node.getStatus().getConditions().stream().anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    if (!ready) {
      return Optional.of("node is not Ready");
    }
    List<Taint> taints = node.getSpec() == null || node.getSpec().getTaints() == null ? List.of() : node.getSpec().getTaints();
    for (Taint t : taints) {
      if (UNREGISTERED_TAINT.equals(t.getKey()) || dev.dovetail.provisioner.provisioning.Snapshot.isEphemeral(t.getKey())) {
        return Optional.of("node has taint " + t.getKey());
      }
      if (claim.getSpec().startupTaints() != null && claim.getSpec().startupTaints().stream()
          .anyMatch(s -> s.key().equals(t.getKey()) && s.effect().name().equals(t.getEffect()))) {
        return Optional.of("startup taint " + t.getKey() + " is still on the node");
      }
    }
    if (claim.getStatus() != null && claim.getStatus().capacity() != null && node.getStatus().getAllocatable() != null) {
      Resources allocatable = Resources.of(node.getStatus().getAllocatable());
      for (String resource : claim.getStatus().capacity().keySet()) {
        if (allocatable.get(resource) == 0 && Resources.of(claim.getStatus().capacity()).get(resource) > 0) {
          return Optional.of("resource " + resource + " is not registered on the node");
        }
      }
    }
    return Optional.empty();
  }

  // --- gone instances -----------------------------------------------------------------------------

  private CompletionStage<Result> instanceGone(NodeClaim claim) {
    LOG.warn("the instance of NodeClaim {} ({}) no longer exists; deleting the NodeClaim", claim.getMetadata().getName(),
        claim.getStatus().providerID());
    events.warning(claim, "InstanceNotFound", "instance " + claim.getStatus().providerID() + " no longer exists; deleting the NodeClaim");
    metrics.nodeClaimDisrupted("garbage_collected", NodeClaims.pool(claim), capacityTypeOf(claim));
    deleteClaim(claim);
    capacityChanged.run();
    return Result.done();
  }

  // --- helpers ------------------------------------------------------------------------------------

  private List<Condition> rollUp(List<Condition> conditions, NodeClaim claim) {
    List<String> notTrue = new ArrayList<>();
    for (String t : List.of("Launched", "Registered", "Initialized")) {
      Optional<Condition> c = Conditions.get(conditions, t);
      if (c.isEmpty() || !c.get().isTrue()) {
        notTrue.add(t + "=" + c.map(x -> x.status().name()).orElse("Unknown"));
      }
    }
    boolean anyFalse = notTrue.stream().anyMatch(s -> s.endsWith("=False"));
    return Conditions.set(conditions, "Ready", notTrue.isEmpty() ? Condition.Status.True : anyFalse ? Condition.Status.False : Condition.Status.Unknown,
        notTrue.isEmpty() ? "Ready" : "UnhealthyDependents", String.join(", ", notTrue), generation(claim), clock.instant());
  }

  private NodeClaimStatus status(NodeClaim claim, String ignored, String type, Condition.Status s, String reason, String message) {
    NodeClaimStatus before = claim.getStatus();
    List<Condition> conditions = Conditions.set(before == null ? null : before.conditions(), type, s, reason, message, generation(claim),
        clock.instant());
    return withConditions(before, rollUp(conditions, claim));
  }

  private static NodeClaimStatus withConditions(NodeClaimStatus s, List<Condition> conditions) {
    return s == null ? new NodeClaimStatus(null, null, null, null, null, null, conditions)
        : new NodeClaimStatus(s.nodeName(), s.providerID(), s.imageID(), s.capacity(), s.allocatable(), s.lastPodEventTime(), conditions);
  }

  private void writeStatus(NodeClaim claim, NodeClaimStatus status) {
    writer.writeStatus(claim, status);
  }

  private <T extends io.fabric8.kubernetes.api.model.HasMetadata> void patchMetadata(Class<T> type, String name, Map<String, Object> metadata) {
    writer.patchMetadata(type, name, metadata);
  }

  /** Expired: deleted at once, outside disruption budgets; termination drains the node as for any deletion. */
  private CompletionStage<Result> expire(NodeClaim claim) {
    String name = claim.getMetadata().getName();
    LOG.info("NodeClaim {} expired (expireAfter {}, created {}); deleting it", name, claim.getSpec().expireAfter(),
        claim.getMetadata().getCreationTimestamp());
    events.normal(claim, "Expired", "NodeClaim " + name + " reached its expireAfter of " + claim.getSpec().expireAfter() + "; deleting it");
    metrics.nodeClaimDisrupted("expired", NodeClaims.pool(claim), capacityTypeOf(claim));
    deleteClaim(claim);
    return Result.done();
  }

  private void deleteClaim(NodeClaim claim) {
    try {
      client.resources(NodeClaim.class).withName(claim.getMetadata().getName()).delete();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
    }
  }

  private Duration age(NodeClaim claim) {
    String created = claim.getMetadata().getCreationTimestamp();
    return created == null ? Duration.ZERO : Duration.between(Instant.parse(created), clock.instant());
  }

  private Duration sinceLaunched(NodeClaim claim) {
    return Conditions.get(claim.getStatus().conditions(), "Launched").map(Condition::lastTransitionTime).filter(t -> !t.isEmpty())
        .map(t -> Duration.between(Instant.parse(t), clock.instant())).orElse(age(claim));
  }

  static long generation(NodeClaim claim) {
    return claim.getMetadata().getGeneration() == null ? 1 : claim.getMetadata().getGeneration();
  }

  static CompletionStage<Result> failed(Throwable t) {
    return CompletableFuture.failedFuture(t);
  }
}
