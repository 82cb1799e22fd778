package dev.dovetail.provisioner.config;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfig;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfigSpec;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfigStatus;
import dev.dovetail.api.config.v1alpha1.PodEvictor;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.provisioner.cluster.Caches;
import dev.dovetail.provisioner.controller.Reconciliation;
import dev.dovetail.provisioner.controller.Result;
import dev.dovetail.provisioner.kube.Conditions;
import dev.dovetail.provisioner.kube.Writer;
import dev.dovetail.runtime.Recorder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
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

  private final Caches caches;
  private final Writer writer;
  private final Recorder events;
  private final Clock clock;

  public OrchestratorConfigController(Caches caches, Writer writer, Recorder events, Clock clock) {
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
        return write(config, managed, conditions, generation);
      }
      List<String> failed = apply(inForce, managed, context);
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
    }
    return write(config, managed, conditions, generation);
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
        context.atInfo(LOG).addKeyValue("nodepool", name).log("wrote the ClusterOrchestratorConfig's settings: {}", inForce.describe());
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

  private CompletionStage<Result> write(ClusterOrchestratorConfig config, List<NodePool> managed, List<Condition> conditions, long generation) {
    ClusterOrchestratorConfigStatus before = config.getStatus();
    ClusterOrchestratorConfigStatus status = new ClusterOrchestratorConfigStatus(generation,
        before == null ? null : before.computedNodePoolLimits(), managed.stream().map(p -> p.getMetadata().getName()).toList(), conditions);
    if (!Objects.equals(before, status)) {
      writer.patchStatus(ClusterOrchestratorConfig.class, ClusterOrchestratorConfig.NAME, status);
    }
    return Result.done();
  }
}
