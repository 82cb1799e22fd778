package dev.dovetail.provisioner.config;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfig;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfigSpec;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfigStatus;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfigStatus.ComputedLimits;
import dev.dovetail.api.config.v1alpha1.CommitmentIntegration;
import dev.dovetail.api.config.v1alpha1.NodePoolLimits;
import dev.dovetail.api.config.v1alpha1.PodEvictor;
import dev.dovetail.api.config.v1alpha1.ReplacementWindow;
import dev.dovetail.api.config.v1alpha1.ReservedInstance;
import dev.dovetail.api.disruption.ReplacementWindows;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.cloud.CloudProvider;
import dev.dovetail.provisioner.cluster.Caches;
import dev.dovetail.provisioner.controller.Reconciliation;
import dev.dovetail.provisioner.controller.Result;
import dev.dovetail.provisioner.kube.Conditions;
import dev.dovetail.provisioner.kube.Writer;
import dev.dovetail.runtime.Recorder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts the ClusterOrchestratorConfig's node disruption settings in force: writes them (see
 * {@link InForce}) into the spec of every NodePool labelled {@code dovetail.dev/orchestrated=true}, so
 * {@code kubectl get nodepool -o yaml} shows what applies, and reports on the config: the managed pools,
 * {@code Ready}, and {@code ScaleDownEnabled} (False, with a warning Event, when the cluster would never
 * scale down). A pool without the label keeps its own spec; a disabled config leaves the pools as they
 * are. Reconciled on every change of the config or of a NodePool.
 */
public final class OrchestratorConfigController {
  private static final Logger LOG = LoggerFactory.getLogger(OrchestratorConfigController.class);
  public static final String READY = "Ready";
  public static final String SCALE_DOWN_ENABLED = "ScaleDownEnabled";
  /** Whether fallback capacity is moved back to spot, how often and when. */
  public static final String REVERSE_FALLBACK = "ReverseFallback";
  /** Whether replicas on the wrong capacity type for their rule are moved (it comes with the pod evictor). */
  public static final String ROBUST_DISTRIBUTION = "RobustDistribution";
  /** Settings of the spec that nothing acts on (yet), named with why. */
  public static final String SETTINGS_IGNORED = "SettingsIgnored";

  private final Caches caches;
  private final Writer writer;
  private final Recorder events;
  private final Clock clock;
  private final MultiGauge commitmentUse;
  private final MultiGauge savingsPlanUse;
  private final CloudProvider cloud;

  /** @param cloud where the commitments come from (the sim: the config's Reserved Instances; AWS: the account's) */
  public OrchestratorConfigController(Caches caches, Writer writer, Recorder events, Clock clock, MeterRegistry registry, CloudProvider cloud) {
    this.commitmentUse = MultiGauge.builder("dovetail.commitment.utilization.ratio")
        .description("The share of each Reserved Instance commitment that on-demand nodes use now.").register(registry);
    this.savingsPlanUse = MultiGauge.builder("dovetail.savings.plan.utilization.ratio")
        .description("The share of each Savings Plan's hourly commitment that on-demand nodes use now.").register(registry);
    this.cloud = cloud;
    this.caches = caches;
    this.writer = writer;
    this.events = events;
    this.clock = clock;
  }

  /** Whether a NodePool opted in to the config's settings. */
  public static boolean managed(NodePool pool) {
    Map<String, String> labels = pool.getMetadata().getLabels();
    return labels != null && "true".equals(labels.get(DovetailLabels.ORCHESTRATED));
  }

  /**
   * The pod evictor rules a pool's under-used nodes must meet: those of the config in force when the pool
   * opted in and bin-packing is on.
   */
  public Optional<PodEvictor> evictor(String pool) {
    if (caches.nodePool(pool).filter(OrchestratorConfigController::managed).isEmpty()) {
      return Optional.empty();
    }
    try {
      return caches.orchestratorConfig().map(c -> InForce.of(c.getSpec()).podEvictor());
    } catch (IllegalArgumentException e) {
      return Optional.empty();  // a spec the schema should have refused: its status says so, and the pool is left to its own spec
    }
  }

  /** The Reserved Instances of the config in force when its commitment integration is on (the sim provider's inventory). */
  public static List<ReservedInstance> reservedInstances(Caches caches) {
    return caches.orchestratorConfig().map(c -> c.getSpec().commitmentIntegration()).filter(ci -> Boolean.TRUE.equals(ci.enabled()))
        .map(CommitmentIntegration::reservedInstances).orElse(List.of());
  }

  /** Whether the config in force turns the commitment integration on (the AWS provider reads the account's commitments while it does). */
  public static boolean commitmentsEnabled(Caches caches) {
    return caches.orchestratorConfig().map(c -> c.getSpec().commitmentIntegration()).map(ci -> Boolean.TRUE.equals(ci.enabled())).orElse(false);
  }

  /**
   * Each Reserved Instance commitment of the cloud provider (those of one type and zone together: an account
   * often holds several purchases of the same) and how much of it is in use; the gauge follows. A provider that
   * reads the account's commitments says what is in use from its own coverage (every instance of the account,
   * zonal before regional, regional ones size-flexible); otherwise (the sim) it is the on-demand nodes of the
   * type (in the zone) it covers, at most its count.
   */
  private List<ClusterOrchestratorConfigStatus.CommitmentUse> commitmentUse() {
    List<CloudProvider.ReservedInstanceUse> uses = cloud.readsAccountCommitments() ? cloud.reservedInstanceUse() : countedFromNodes();
    List<ClusterOrchestratorConfigStatus.CommitmentUse> out = new ArrayList<>();
    List<MultiGauge.Row<?>> rows = new ArrayList<>();
    for (CloudProvider.ReservedInstanceUse use : uses) {
      // Whole instances' worth in the status (a regional RI may be partly used by smaller sizes); the gauge is exact.
      int inUse = (int) Math.min(use.count(), Math.floor(use.inUse() + 1e-9));
      out.add(new ClusterOrchestratorConfigStatus.CommitmentUse(use.instanceType(), use.availabilityZone(), use.count(), inUse));
      rows.add(MultiGauge.Row.of(Tags.of("instance_type", use.instanceType(), "zone", use.availabilityZone() == null ? "regional" : use.availabilityZone()),
          use.count() > 0 ? Math.min(1, use.inUse() / use.count()) : 0));
    }
    commitmentUse.register(rows, true);
    return out;
  }

  /**
   * What of a node decides which commitment it uses, as {@link #countedFromNodes} reads it: its capacity type, instance
   * type and zone labels. A change of these (registration writes them onto the Node) changes the commitments in use.
   */
  public static List<String> commitmentLabels(Node node) {
    Map<String, String> labels = node.getMetadata().getLabels() == null ? Map.of() : node.getMetadata().getLabels();
    return Arrays.asList(labels.get(WellKnownLabels.CAPACITY_TYPE), labels.get(WellKnownLabels.INSTANCE_TYPE), labels.get(WellKnownLabels.ZONE));
  }

  /** The sim provider's Reserved Instances (the config's), each with the on-demand nodes of its type (in its zone), at most its count. */
  private List<CloudProvider.ReservedInstanceUse> countedFromNodes() {
    Map<List<String>, Integer> counts = new LinkedHashMap<>();
    Map<List<String>, ReservedInstance> byKey = new LinkedHashMap<>();
    for (ReservedInstance ri : cloud.reservedInstances()) {
      List<String> key = Arrays.asList(ri.instanceType(), ri.availabilityZone());
      counts.merge(key, ri.count(), Integer::sum);
      byKey.putIfAbsent(key, ri);
    }
    List<CloudProvider.ReservedInstanceUse> out = new ArrayList<>();
    byKey.forEach((key, ri) -> {
      int count = counts.get(key);
      long onDemand = caches.nodes().stream().map(n -> n.getMetadata().getLabels()).filter(l -> l != null
          && WellKnownLabels.ON_DEMAND.equals(l.get(WellKnownLabels.CAPACITY_TYPE))
          && ri.covers(l.get(WellKnownLabels.INSTANCE_TYPE), l.get(WellKnownLabels.ZONE))).count();
      out.add(new CloudProvider.ReservedInstanceUse(ri.instanceType(), ri.availabilityZone(), count, Math.min(onDemand, count)));
    });
    return out;
  }

  /** Each Savings Plan the cloud provider read and the share of its hourly commitment in use; the gauge follows. */
  private List<ClusterOrchestratorConfigStatus.SavingsPlanUse> savingsPlanUse() {
    List<ClusterOrchestratorConfigStatus.SavingsPlanUse> out = new ArrayList<>();
    List<MultiGauge.Row<?>> rows = new ArrayList<>();
    for (CloudProvider.SavingsPlanUse plan : cloud.savingsPlans()) {
      out.add(new ClusterOrchestratorConfigStatus.SavingsPlanUse(plan.id(), plan.type(), plan.family(), String.format(Locale.ROOT, "%.4f", plan.commitment()),
          String.format(Locale.ROOT, "%.4f", plan.inUse())));
      rows.add(MultiGauge.Row.of(Tags.of("savings_plan_id", plan.id(), "savings_plan_type", plan.type()),
          plan.commitment() > 0 ? plan.inUse() / plan.commitment() : 0));
    }
    savingsPlanUse.register(rows, true);
    return out;
  }

  /** The pod evictor of the config in force, cluster-wide, when it is on (robust distribution comes with it). */
  public Optional<PodEvictor> podEvictor() {
    try {
      return caches.orchestratorConfig().map(c -> InForce.of(c.getSpec()).podEvictor()).filter(e -> Boolean.TRUE.equals(e.enabled()));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  public CompletionStage<Result> reconcile(String name, Reconciliation context) {
    Optional<ClusterOrchestratorConfig> found = caches.configuration();
    if (found.isEmpty()) {
      return Result.done();
    }
    ClusterOrchestratorConfig config = found.get();
    ClusterOrchestratorConfigSpec spec = config.getSpec() == null ? new ClusterOrchestratorConfigSpec(null, null, null, null, null, null)
        : config.getSpec();
    List<NodePool> managed = caches.nodePools().stream().filter(OrchestratorConfigController::managed)
        .sorted((a, b) -> a.getMetadata().getName().compareTo(b.getMetadata().getName())).toList();
    long generation = config.getMetadata().getGeneration() == null ? 1 : config.getMetadata().getGeneration();
    ClusterOrchestratorConfigStatus before = config.getStatus();
    List<Condition> conditions = before == null ? List.of() : before.conditions();
    Optional<ComputedLimits> computed = Optional.ofNullable(before).map(ClusterOrchestratorConfigStatus::computedNodePoolLimits);
    Optional<NodePoolLimits> clusterLevel = DefaultLimits.clusterLevel(spec);
    if (Boolean.TRUE.equals(spec.disabled())) {
      conditions = Conditions.set(conditions, READY, Condition.Status.True, "Disabled",
          "spec.disabled is true: managed NodePools keep the settings they have", generation, clock.instant());
      conditions = Conditions.remove(conditions, SCALE_DOWN_ENABLED);
    } else {
      InForce inForce;
      try {
        inForce = InForce.of(spec);
      } catch (IllegalArgumentException e) {
        conditions = Conditions.set(conditions, READY, Condition.Status.False, "InvalidSpec", e.getMessage(), generation, clock.instant());
        return write(config, managed, conditions, generation, computed);
      }
      List<String> failed = apply(inForce, managed, context);
      Optional<ComputedLimits> stored = computed;
      computed = clusterLevel.isPresent() ? stored
          : DefaultLimits.compute(caches.nodes(), clock.instant()).map(now -> DefaultLimits.refreshed(stored, now)).or(() -> stored);
      if (clusterLevel.isPresent() || computed.isPresent()) {
        failed.addAll(applyLimits(DefaultLimits.effective(clusterLevel, computed.orElse(null)), managed, context));
      }
      conditions = failed.isEmpty()
          ? Conditions.set(conditions, READY, Condition.Status.True, "Applied",
              managed.size() + " managed NodePool(s): " + inForce.describe(), generation, clock.instant())
          : Conditions.set(conditions, READY, Condition.Status.False, "NodePoolRejected", String.join("; ", failed), generation, clock.instant());
      boolean wasOn = Conditions.get(before == null ? null : before.conditions(), SCALE_DOWN_ENABLED).map(Condition::isTrue).orElse(true);
      if (inForce.scaleDownOff().isPresent()) {
        String message = "the cluster never scales down: " + inForce.scaleDownOff().get() + "; managed NodePools get consolidateAfter: Never";
        conditions = Conditions.set(conditions, SCALE_DOWN_ENABLED, Condition.Status.False, "ScaleDownDisabled", message, generation, clock.instant());
        if (wasOn) {
          events.warning(config, "ScaleDownDisabled", message);
        }
      } else {
        conditions = Conditions.set(conditions, SCALE_DOWN_ENABLED, Condition.Status.True, "ScaleDownEnabled",
            "empty and under-used nodes of managed NodePools are removed after " + inForce.consolidateAfter(), generation, clock.instant());
      }
      conditions = spotConditions(spec, inForce, conditions, generation);
    }
    write(config, managed, conditions, generation, computed);
    // Computed limits follow the cluster as it grows: looked at again in a minute.
    boolean following = computed.isPresent() && !Boolean.TRUE.equals(spec.disabled()) && !managed.isEmpty() && clusterLevel.isEmpty();
    // Commitments in use follow the nodes, whose events reconcile this at once; an account's inventory and coverage, which
    // the provider reads on a period, are looked at again every half minute.
    if (cloud.readsAccountCommitments() && commitmentsEnabled(caches)) {
      return Result.requeue(Duration.ofSeconds(30));
    }
    return following ? Result.requeue(Duration.ofMinutes(1)) : Result.done();
  }

  /** ReverseFallback, RobustDistribution and SettingsIgnored: what of the spot settings is in force. */
  private List<Condition> spotConditions(ClusterOrchestratorConfigSpec spec, InForce inForce, List<Condition> conditions, long generation) {
    Instant now = clock.instant();
    var reverse = spec.reverseFallback();
    List<Condition> out = Boolean.TRUE.equals(reverse == null ? null : reverse.enabled())
        ? Conditions.set(conditions, REVERSE_FALLBACK, Condition.Status.True, "Enabled", "on-demand nodes standing in for spot are checked every "
            + reverse.retryInterval() + " and replaced with spot once it is back, one per NodePool at a time"
            + (windowGoverns(spec, ReplacementWindows.Operation.REVERSE_FALLBACK) ? ", inside the replacement window" : ""), generation, now)
        : Conditions.set(conditions, REVERSE_FALLBACK, Condition.Status.False, "Disabled",
            "reverseFallback is not enabled: on-demand capacity standing in for spot stays until consolidated or expired", generation, now);
    PodEvictor evictor = inForce.podEvictor();
    out = evictor != null
        ? Conditions.set(out, ROBUST_DISTRIBUTION, Condition.Status.True, "Enabled", "replicas on the capacity type their rule no longer wants "
            + "are evicted one per workload at a time, at most " + (evictor.maxEvictions() == null ? 20 : evictor.maxEvictions()) + " a pass"
            + (windowGoverns(spec, ReplacementWindows.Operation.POD_EVICTION) ? ", inside the replacement window" : ""), generation, now)
        : Conditions.set(out, ROBUST_DISTRIBUTION, Condition.Status.False, "Disabled",
            "robust distribution comes with the pod evictor (consolidation.podEvictor.enabled)", generation, now);
    List<String> ignored = new ArrayList<>();
    CommitmentIntegration commitments = spec.commitmentIntegration();
    if (commitments != null && Boolean.TRUE.equals(commitments.enabled())) {
      if (cloud.readsAccountCommitments()) {
        if (commitments.reservedInstances() != null && !commitments.reservedInstances().isEmpty()) {
          ignored.add("commitmentIntegration.reservedInstances (the " + cloud.name() + " provider reads the account's Reserved Instances and "
              + "Savings Plans instead)");
        }
      } else if (commitments.reservedInstances() == null || commitments.reservedInstances().isEmpty()) {
        ignored.add("commitmentIntegration (the " + cloud.name() + " provider has no account to read Reserved Instances and Savings Plans from: "
            + "list them in commitmentIntegration.reservedInstances; on-demand is priced at list price)");
      }
    }
    return ignored.isEmpty() ? Conditions.set(out, SETTINGS_IGNORED, Condition.Status.False, "None", "every setting is in force", generation, now)
        : Conditions.set(out, SETTINGS_IGNORED, Condition.Status.True, "NotImplemented", String.join("; ", ignored), generation, now);
  }

  /** Whether the spec's replacement window restricts this operation to some times. */
  private static boolean windowGoverns(ClusterOrchestratorConfigSpec spec, ReplacementWindows.Operation op) {
    return spec.replacementWindow() != null && spec.replacementWindow().type() != ReplacementWindow.Type.Always
        && ReplacementWindows.governs(spec.replacementWindow(), op);
  }

  /** Gives each managed pool without limits of its own these; returns what the API server refused. */
  private List<String> applyLimits(Map<String, String> limits, List<NodePool> managed, Reconciliation context) {
    List<String> failed = new ArrayList<>();
    for (NodePool pool : managed) {
      Optional<Map<String, Object>> patch = DefaultLimits.patch(pool, limits);
      if (patch.isEmpty()) {
        continue;
      }
      String name = pool.getMetadata().getName();
      try {
        writer.mergePatch(NodePool.class, name, patch.get());
        if (!DefaultLimits.explicit(pool)) {
          context.with("NodePool", name).atInfo(LOG).log("limits {} (the pool has none of its own)", DefaultLimits.text(limits));
          events.normal(pool, "DefaultLimitsApplied", "limits " + DefaultLimits.text(limits) + " from ClusterOrchestratorConfig "
              + ClusterOrchestratorConfig.NAME + " (the pool has none of its own)");
        }
      } catch (KubernetesClientException e) {
        if (e.getCode() != 404) {
          failed.add("NodePool " + name + ": " + (e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage() : e.getMessage()));
        }
      }
    }
    return failed;
  }

  /** Patches each managed pool that differs; returns what the API server refused. */
  private List<String> apply(InForce inForce, List<NodePool> managed, Reconciliation context) {
    List<String> failed = new ArrayList<>();
    for (NodePool pool : managed) {
      Optional<Map<String, Object>> patch = inForce.patch(pool);
      if (patch.isEmpty()) {
        continue;
      }
      String name = pool.getMetadata().getName();
      try {
        writer.mergePatch(NodePool.class, name, patch.get());
        context.with("NodePool", name).atInfo(LOG).log("wrote the ClusterOrchestratorConfig's settings: {}", inForce.describe());
        events.normal(pool, "OrchestratorConfigApplied", "from ClusterOrchestratorConfig " + ClusterOrchestratorConfig.NAME + ": " + inForce.describe());
      } catch (KubernetesClientException e) {
        if (e.getCode() == 404) {
          continue;
        }
        String why = e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage() : e.getMessage();
        failed.add("NodePool " + name + ": " + why);
        events.warning(pool, "OrchestratorConfigRejected", why);
      }
    }
    return failed;
  }

  private CompletionStage<Result> write(ClusterOrchestratorConfig config, List<NodePool> managed, List<Condition> conditions, long generation,
      Optional<ComputedLimits> computed) {
    ClusterOrchestratorConfigStatus before = config.getStatus();
    List<ClusterOrchestratorConfigStatus.CommitmentUse> commitments = commitmentUse();
    List<ClusterOrchestratorConfigStatus.SavingsPlanUse> plans = savingsPlanUse();
    ClusterOrchestratorConfigStatus status = new ClusterOrchestratorConfigStatus(generation, computed.orElse(null),
        managed.stream().map(p -> p.getMetadata().getName()).toList(), commitments.isEmpty() ? null : commitments, plans.isEmpty() ? null : plans,
        conditions);
    if (!Objects.equals(before, status)) {
      writer.patchStatus(ClusterOrchestratorConfig.class, ClusterOrchestratorConfig.NAME, status);
    }
    return Result.done();
  }
}
