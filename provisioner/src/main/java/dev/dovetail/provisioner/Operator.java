package dev.dovetail.provisioner;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfig;
import dev.dovetail.api.distribution.PodFacts;
import dev.dovetail.api.interruption.NodeMarks;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.Durations;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.provisioner.cloud.CloudProvider;
import dev.dovetail.provisioner.cloud.OnExecutor;
import dev.dovetail.provisioner.cloud.UnavailableOfferings;
import dev.dovetail.provisioner.cloud.aws.AwsCloud;
import dev.dovetail.provisioner.cloud.aws.SqsQueue;
import dev.dovetail.provisioner.cloud.sim.SimCloudProvider;
import dev.dovetail.provisioner.cloud.sim.SimFaults;
import dev.dovetail.provisioner.cloud.sim.SimFaultsWatch;
import dev.dovetail.provisioner.cluster.Caches;
import dev.dovetail.provisioner.config.OrchestratorConfigController;
import dev.dovetail.provisioner.controller.Controller;
import dev.dovetail.provisioner.controller.Result;
import dev.dovetail.provisioner.controller.Singleton;
import dev.dovetail.provisioner.controller.Threads;
import dev.dovetail.provisioner.cost.CostMetrics;
import dev.dovetail.provisioner.disruption.Candidate;
import dev.dovetail.provisioner.disruption.Consolidator;
import dev.dovetail.provisioner.disruption.Drift;
import dev.dovetail.provisioner.disruption.Emptiness;
import dev.dovetail.provisioner.disruption.Expiration;
import dev.dovetail.provisioner.disruption.Interruption;
import dev.dovetail.provisioner.disruption.Method;
import dev.dovetail.provisioner.disruption.MultiNodeConsolidation;
import dev.dovetail.provisioner.disruption.Orchestrator;
import dev.dovetail.provisioner.disruption.Repair;
import dev.dovetail.provisioner.disruption.ReverseFallback;
import dev.dovetail.provisioner.disruption.SingleNodeConsolidation;
import dev.dovetail.provisioner.distribution.Rebalancer;
import dev.dovetail.provisioner.distribution.RuleStatusReporter;
import dev.dovetail.provisioner.interruption.InterruptionHandler;
import dev.dovetail.provisioner.interruption.InterruptionQueue;
import dev.dovetail.provisioner.kube.KubernetesVersion;
import dev.dovetail.provisioner.kube.Writer;
import dev.dovetail.provisioner.metrics.ClusterMetrics;
import dev.dovetail.provisioner.metrics.KarpenterMetrics;
import dev.dovetail.provisioner.nodeclaim.GarbageCollection;
import dev.dovetail.provisioner.nodeclaim.Lifecycle;
import dev.dovetail.provisioner.nodeclaim.NodeClaims;
import dev.dovetail.provisioner.nodeclaim.PodEvents;
import dev.dovetail.provisioner.nodeclass.NodeClassController;
import dev.dovetail.provisioner.nodepool.NodePoolStatusController;
import dev.dovetail.provisioner.provisioning.Batcher;
import dev.dovetail.provisioner.provisioning.LaunchGroups;
import dev.dovetail.provisioner.provisioning.PendingPods;
import dev.dovetail.provisioner.provisioning.Provisioner;
import dev.dovetail.provisioner.termination.Termination;
import dev.dovetail.runtime.Recorder;
import dev.dovetail.state.Governance;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElector;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The provisioner assembled: caches, the sim (or another) cloud, the NodeClaim, NodePool and
 * EC2NodeClass controllers and the provisioning loop. Caches start at once (a standby is warm); the
 * controllers and the loop start only while this replica holds the leader Lease, so two replicas
 * never launch at the same time.
 */
public final class Operator implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Operator.class);

  /**
   * How the disruption controller decides.
   *
   * @param validation how long a graceful decision waits before it is checked again and carried out
   * @param spotToSpot Karpenter's {@code SpotToSpotConsolidation} feature gate: whether consolidation may replace spot nodes with spot
   * @param repair the node repair policies in force: empty unless Karpenter's {@code NodeRepair} feature gate is on
   * @param interruptionEvictionLead how long before a spot-interrupted claim's drain deadline its evictions start at the latest
   *     while its replacement is not Ready yet ({@link NodeMarks#evictionsStartBy}); zero evicts at once
   */
  public record Disruption(Duration validation, boolean spotToSpot, List<Repair.Policy> repair, Duration interruptionEvictionLead) {
    public Disruption {
      repair = List.copyOf(repair);
    }

    /** With the default eviction lead. */
    public Disruption(Duration validation, boolean spotToSpot, List<Repair.Policy> repair) {
      this(validation, spotToSpot, repair, NodeMarks.DEFAULT_EVICTION_LEAD);
    }
  }

  /** Everything configurable, with the command line's defaults in {@link ProvisionerMain}. */
  public record Settings(String clusterName, Set<String> schedulerNames, Duration batchIdle, Duration batchMax, Duration registrationTtl,
      Duration launchGroupWait, Set<String> exemptNamespaces, SimFaults simFaults, Optional<String> simConfigMap, String namespace, LeaderElection leaderElection,
      int concurrency, Optional<InterruptionQueue.Settings> interruptionQueue, Optional<AwsCloud.Options> aws, Duration orphanGrace,
      Disruption disruption, Duration unavailableOfferingsTtl) {
    public Settings withInterruptionQueue(InterruptionQueue.Settings queue) {
      return new Settings(clusterName, schedulerNames, batchIdle, batchMax, registrationTtl, launchGroupWait, exemptNamespaces, simFaults, simConfigMap,
          namespace, leaderElection, concurrency, Optional.of(queue), aws, orphanGrace, disruption, unavailableOfferingsTtl);
    }

    public Settings withAws(AwsCloud.Options options) {
      return new Settings(clusterName, schedulerNames, batchIdle, batchMax, registrationTtl, launchGroupWait, exemptNamespaces, simFaults, simConfigMap,
          namespace, leaderElection, concurrency, interruptionQueue, Optional.of(options), orphanGrace, disruption, unavailableOfferingsTtl);
    }

    public Settings withDisruption(Disruption other) {
      return new Settings(clusterName, schedulerNames, batchIdle, batchMax, registrationTtl, launchGroupWait, exemptNamespaces, simFaults, simConfigMap,
          namespace, leaderElection, concurrency, interruptionQueue, aws, orphanGrace, other, unavailableOfferingsTtl);
    }

    /** Faults of the simulated cloud from this ConfigMap ({@code namespace/name}), changed while it runs. */
    public Settings withSimConfigMap(String namespaceAndName) {
      return new Settings(clusterName, schedulerNames, batchIdle, batchMax, registrationTtl, launchGroupWait, exemptNamespaces, simFaults,
          Optional.of(namespaceAndName), namespace, leaderElection, concurrency, interruptionQueue, aws, orphanGrace, disruption, unavailableOfferingsTtl);
    }

    /** How long an offering that had no capacity stays out of simulations and launches (Karpenter: 3 minutes). */
    public Settings withUnavailableOfferingsTtl(Duration ttl) {
      return new Settings(clusterName, schedulerNames, batchIdle, batchMax, registrationTtl, launchGroupWait, exemptNamespaces, simFaults, simConfigMap,
          namespace, leaderElection, concurrency, interruptionQueue, aws, orphanGrace, disruption, ttl);
    }
  }

  /** Lease-based leader election; disabled, this replica leads at once. */
  public record LeaderElection(boolean enabled, String lease, String identity, Duration leaseDuration, Duration renewDeadline,
      Duration retryPeriod) {
  }

  private final Settings settings;
  private final KubernetesClient client;
  private final MeterRegistry registry;
  private final Clock clock;
  private final Caches caches;
  private final ScheduledExecutorService timer = Executors.newScheduledThreadPool(1, Threads.daemon("provisioner-timer"));
  /** The gauges rebuilt from the caches on a schedule: their work never delays the batch windows and boot timers on {@link #timer}. */
  private final ScheduledExecutorService gauges = Executors.newSingleThreadScheduledExecutor(Threads.daemon("provisioner-gauges"));
  private final ExecutorService blocking = Executors.newFixedThreadPool(8, Threads.daemon("provisioner-io"));
  private final SimFaultsWatch faults;
  private final Batcher batcher;
  /** Interrupted claims whose drain waits for their pods' replacement (kept from the claims' events, read on every one). */
  private final Set<String> waitingForReplacement = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean leading = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicReference<Provisioner.Outcome> lastOutcome = new AtomicReference<>();
  private final List<AutoCloseable> running = new CopyOnWriteArrayList<>();
  private final CloudProvider cloud;
  private final Recorder events;
  private final KarpenterMetrics metrics;
  private final KubernetesClient evictions;
  private final Optional<SqsQueue> sqs;
  /** With the AWS provider: its clients, the catalog refreshed from EC2 and the Price List API, the provider. */
  private final Optional<AwsCloud> aws;
  private volatile Controller<String> claims;
  private volatile Controller<String> pools;
  private volatile Controller<String> classes;
  private volatile Controller<String> podEvents;
  private volatile Controller<String> orchestratorConfig;
  private volatile OrchestratorConfigController configs;
  private volatile PodEvents podEventsWriter;
  private volatile Singleton provisioning;
  private volatile Singleton disruption;
  private volatile Orchestrator orchestrator;
  private volatile Controller<String> terminations;
  private volatile Provisioner provisioner;
  private CompletableFuture<?> election;
  private Runnable onLostLeadership = () -> { };

  public Operator(Settings settings, KubernetesClient client, Catalog catalog, MeterRegistry registry, Clock clock) {
    this.settings = settings;
    this.client = client;
    this.registry = registry;
    this.clock = clock;
    this.aws = settings.aws().map(o -> new AwsCloud(o, settings.clusterName(), KubernetesVersion.minor(client), catalog, registry, clock,
        new UnavailableOfferings(settings.unavailableOfferingsTtl(), Ticker.systemTicker())));
    Supplier<Catalog> currentCatalog = aws.isPresent() ? aws.get().catalog() : () -> catalog;
    this.caches = new Caches(currentCatalog, registry);
    aws.ifPresent(a -> a.commitmentsEnabled(() -> OrchestratorConfigController.commitmentsEnabled(caches)));
    this.faults = new SimFaultsWatch(settings.simFaults());
    this.batcher = new Batcher(settings.batchIdle(), settings.batchMax(), System::nanoTime,
        (task, nanos) -> timer.schedule(task, nanos, TimeUnit.NANOSECONDS), gathered -> {
          Singleton pass = provisioning;
          if (pass != null) {
            pass.trigger();
          }
        });
    this.metrics = new KarpenterMetrics(registry);
    this.evictions = new KubernetesClientBuilder()
        .withConfig(new ConfigBuilder(client.getConfiguration()).withRequestRetryBackoffLimit(0).build()).build();
    this.events = new Recorder(client, "dovetail-provisioner", clock, settings.leaderElection().identity(), registry);
    this.sqs = settings.interruptionQueue().map(InterruptionQueue.Settings::open);
    this.cloud = new OnExecutor(aws.isPresent() ? aws.get().provider() : new SimCloudProvider(client, catalog, settings.clusterName(),
        faults::get, new UnavailableOfferings(settings.unavailableOfferingsTtl(), Ticker.systemTicker()), timer, blocking, clock, caches::nodes)
        .commitments(() -> OrchestratorConfigController.reservedInstances(caches)), blocking);
  }

  private void commitmentUseChanged() {
    Controller<String> config = orchestratorConfig;
    if (config != null && (!cloud.reservedInstances().isEmpty() || !cloud.savingsPlans().isEmpty())) {
      config.enqueue(ClusterOrchestratorConfig.NAME);
    }
  }

  /** Called if leadership is lost after it was held (the process should exit, as controller-runtime's do). */
  public Operator onLostLeadership(Runnable action) {
    this.onLostLeadership = action;
    return this;
  }

  public Caches caches() {
    return caches;
  }

  public CloudProvider cloud() {
    return cloud;
  }

  /** The provisioner once the controllers run (null before): tests compare its simulation with kube-scheduler's choices. */
  Provisioner provisioner() {
    return provisioner;
  }

  public boolean leading() {
    return leading.get();
  }

  public Optional<Provisioner.Outcome> lastOutcome() {
    return Optional.ofNullable(lastOutcome.get());
  }

  public Operator start() {
    // Handlers go on before the informers start, so none misses the initial list.
    caches.onPods(new ResourceEventHandler<>() {
      @Override
      public void onAdd(Pod pod) {
        podChanged(null, pod);
      }

      @Override
      public void onUpdate(Pod before, Pod pod) {
        podChanged(before, pod);
      }

      @Override
      public void onDelete(Pod pod, boolean finalStateUnknown) {
        podGone(pod);
      }
    });
    caches.onNodes(Caches.handler(this::nodeChanged, (n, unknown) -> nodeChanged(n)));
    // A node coming or going, or taking the labels a commitment covers (the claim's, written at registration), changes
    // how much of a commitment is in use: the config's status says it at once.
    caches.onNodes(new ResourceEventHandler<>() {
      @Override
      public void onAdd(Node node) {
        commitmentUseChanged();
      }

      @Override
      public void onUpdate(Node before, Node after) {
        if (!OrchestratorConfigController.commitmentLabels(before).equals(OrchestratorConfigController.commitmentLabels(after))) {
          commitmentUseChanged();
        }
      }

      @Override
      public void onDelete(Node node, boolean finalStateUnknown) {
        commitmentUseChanged();
      }
    });
    caches.onNodeClaims(Caches.handler(this::claimChanged, (c, unknown) -> {
      if (podEventsWriter != null) {
        podEventsWriter.forget(c.getMetadata().getName());
      }
      waitingForReplacement.remove(c.getMetadata().getName());
      claimChanged(c);
      batcher.trigger();
      Singleton pass = disruption;
      if (pass != null && interruptedClaimWaits()) {
        pass.trigger();  // perhaps a replacement the cloud refused: the interrupted claim's pods need another one now
      }
    }));
    caches.onNodePools(new ResourceEventHandler<>() {
      @Override
      public void onAdd(NodePool pool) {
        enqueue(pools, pool.getMetadata().getName());
        enqueue(orchestratorConfig, ClusterOrchestratorConfig.NAME);
        batcher.trigger();
      }

      @Override
      public void onUpdate(NodePool before, NodePool pool) {
        enqueue(pools, pool.getMetadata().getName());
        if (OrchestratorConfigController.managed(before) || OrchestratorConfigController.managed(pool)) {
          enqueue(orchestratorConfig, ClusterOrchestratorConfig.NAME);
        }
        // A new spec (limits, requirements, weight) may make room for pending pods; the pool's own status
        // (resources, node count), written as its nodes come up, does not, and must not keep a batch open.
        if (!Objects.equals(before.getMetadata().getGeneration(), pool.getMetadata().getGeneration())) {
          batcher.trigger();
          // Its claims may have drifted, or become consolidatable sooner or later.
          caches.nodeClaims().stream().filter(c -> pool.getMetadata().getName().equals(NodeClaims.pool(c)))
              .forEach(c -> enqueue(claims, c.getMetadata().getName()));
        }
      }

      @Override
      public void onDelete(NodePool pool, boolean finalStateUnknown) {
        enqueue(pools, pool.getMetadata().getName());
        enqueue(orchestratorConfig, ClusterOrchestratorConfig.NAME);
      }
    });
    caches.onOrchestratorConfigs(Caches.handler(c -> configChanged(), (c, unknown) -> configChanged()));
    caches.onNodeClasses(Caches.handler(this::nodeClassChanged, (c, unknown) -> nodeClassChanged(c)));
    caches.start(client);
    Gauge.builder("karpenter.cluster.state.synced", caches, c -> c.synced() ? 1 : 0)
        .description("1 once the cluster state caches are synced.").register(registry);
    long unsyncedSince = System.nanoTime();
    Gauge.builder("karpenter.cluster.state.unsynced.time.seconds", caches, c -> c.synced() ? 0 : (System.nanoTime() - unsyncedSince) / 1e9)
        .description("The time for which cluster state is not synced").register(registry);
    Gauge.builder("dovetail.provisioner.leader", leading, l -> l.get() ? 1 : 0)
        .description("1 while this replica holds the leader lease and runs the controllers.").register(registry);
    faults.start(client, settings.simConfigMap(), settings.namespace());
    aws.ifPresent(c -> c.start(timer));
    new ClusterMetrics(caches, registry).start(gauges);
    new CostMetrics(caches, registry, settings.exemptNamespaces()).start(gauges);
    LeaderElection le = settings.leaderElection();
    if (!le.enabled()) {
      startLeading();
      return this;
    }
    var config = new LeaderElectionConfigBuilder()
        .withName("dovetail-provisioner")
        .withLock(new LeaseLock(settings.namespace(), le.lease(), le.identity()))
        .withLeaseDuration(le.leaseDuration()).withRenewDeadline(le.renewDeadline()).withRetryPeriod(le.retryPeriod())
        .withReleaseOnCancel(true)
        .withLeaderCallbacks(new LeaderCallbacks(this::startLeading, this::stopLeading,
            leader -> LOG.info("leader is now {}", leader)))
        .build();
    election = new LeaderElector(client, config, blocking).start();
    return this;
  }

  private void startLeading() {
    if (closed.get() || !leading.compareAndSet(false, true)) {
      return;
    }
    LOG.info("{} leads: starting controllers", settings.leaderElection().identity());
    Writer writer = new Writer(client);
    LaunchGroups launchGroups = new LaunchGroups(caches, settings.launchGroupWait(), clock);
    Lifecycle lifecycle = new Lifecycle(caches, cloud, writer, events, metrics, clock, batcher::trigger,
        new Lifecycle.Settings(settings.registrationTtl(), launchGroups));
    claims = new Controller<>("nodeclaim.lifecycle", "NodeClaim", lifecycle::reconcile, settings.concurrency(), registry);
    Termination termination = new Termination(client, evictions, caches, cloud, events, metrics, clock, settings.disruption().interruptionEvictionLead());
    terminations = new Controller<>("nodeclaim.termination", "NodeClaim", termination::reconcile, settings.concurrency(), registry);
    pools = new Controller<>("nodepool.status", "NodePool", new NodePoolStatusController(client, caches, clock, registry)::reconcile, 2, registry);
    classes = new Controller<>("ec2nodeclass.status", "EC2NodeClass", new NodeClassController(client, caches, cloud, events)::reconcile, 2,
        registry);
    podEventsWriter = new PodEvents(caches, writer, clock);
    podEvents = new Controller<>("nodeclaim.podevents", "NodeClaim", podEventsWriter::reconcile, 2, registry);
    configs = new OrchestratorConfigController(caches, writer, events, clock, registry, cloud);
    orchestratorConfig = new Controller<>("clusterorchestratorconfig", "ClusterOrchestratorConfig", configs::reconcile, 1, registry);
    running.addAll(List.of(claims, terminations, pools, classes, podEvents, orchestratorConfig));
    // Decisions on a partial picture would launch capacity that already exists: the controllers start
    // once the caches have synced, and after the first catalog refresh (bounded: a Region's types may
    // differ from the bundled ones, but an unanswered Price List API must not keep the provisioner from
    // working on what it has).
    CompletableFuture<Void> catalogReady = aws.map(c -> c.firstRefresh().copy().completeOnTimeout(null, 60, TimeUnit.SECONDS))
        .orElseGet(() -> CompletableFuture.completedFuture(null));
    CompletableFuture.allOf(caches.whenSynced(), catalogReady).thenRunAsync(() -> startControllers(writer), blocking).exceptionally(e -> {
      LOG.error("controllers not started: {}", e.toString(), e);
      return null;
    });
  }

  private void startControllers(Writer writer) {
    if (closed.get() || !leading.get()) {
      return;
    }
    caches.nodeClaims().forEach(c -> {
      claims.enqueue(c.getMetadata().getName());
      terminations.enqueue(c.getMetadata().getName());
    });
    caches.nodePools().forEach(p -> pools.enqueue(p.getMetadata().getName()));
    caches.nodeClasses().forEach(c -> classes.enqueue(c.getMetadata().getName()));
    orchestratorConfig.enqueue(ClusterOrchestratorConfig.NAME);
    List.of(claims, terminations, pools, classes, podEvents, orchestratorConfig).forEach(Controller::start);
    provisioner = new Provisioner(client, caches, cloud, new Governance(caches.view(), settings.exemptNamespaces()), events, metrics,
        settings.schedulerNames(), blocking);
    provisioning = singleton(new Singleton("provisioner", Provisioner.PERIOD, 0, context -> {
      lastOutcome.set(provisioner.provision(context));
      return Result.done();
    }, leading::get, registry));
    Provisioner planner = provisioner;
    Consolidator.Inputs inputs = new Consolidator.Inputs(() -> Consolidator.Simulation.of(planner.simulator()), planner::pendingPods, c -> planner.price(c.claim()),
        caches::nodePool, caches::disruptionBudgets, planner::nominated, configs::evictor,
        p -> caches.view().workloadOf(PodFacts.of(p)).desiredReplicas(), (c, why) -> {
          events.normal(c.claim(), "Unconsolidatable", why.message());
          c.node().ifPresent(n -> events.normal(n, "Unconsolidatable", why.message()));
        });
    // Spot-to-spot: Karpenter's gate, or the ClusterOrchestratorConfig's consolidation.enableSpotToSpot (Harness's switch).
    Consolidator consolidator = new Consolidator(inputs, () -> settings.disruption().spotToSpot() || caches.orchestratorConfig()
        .map(c -> c.getSpec().consolidation()).map(c -> Boolean.TRUE.equals(c.enableSpotToSpot())).orElse(false));
    List<Method> methods = new ArrayList<>(List.of(new Expiration()));
    repair().ifPresent(methods::add);
    methods.addAll(List.of(new Interruption(cloud, provisioner, settings.schedulerNames(),
        claim -> writer.patchMetadata(NodeClaim.class, claim, Map.of("annotations", Map.of(NodeMarks.REPLACEMENT_READY, clock.instant().toString())))), new Emptiness(provisioner::nominated),
        new Drift(consolidator), new MultiNodeConsolidation(consolidator, clock), new SingleNodeConsolidation(consolidator, clock),
        reverseFallback(consolidator)));
    Orchestrator orchestrator = new Orchestrator(caches, provisioner, writer, events, metrics, clock, settings.disruption().validation(),
        () -> caches.orchestratorConfig().map(c -> c.getSpec().replacementWindow()),
        () -> caches.configuration().filter(c -> c.getSpec() != null && Boolean.TRUE.equals(c.getSpec().disabled()))
            .map(c -> "Paused: ClusterOrchestratorConfig " + ClusterOrchestratorConfig.NAME + " is disabled (spec.disabled)"), methods);
    this.orchestrator = orchestrator;
    disruption = singleton(new Singleton("disruption", Orchestrator.PERIOD, 0.1, orchestrator::reconcile, leading::get, registry));
    GarbageCollection gc = new GarbageCollection(caches::nodeClaims, caches::nodeByProviderId, writer, cloud, clock, settings.orphanGrace(),
        registry);
    singleton(gc.controller(Duration.ofSeconds(Math.max(10, Math.min(120, settings.orphanGrace().toSeconds()))), leading::get, registry))
        .start(Duration.ofSeconds(30));
    RuleStatusReporter rules = new RuleStatusReporter(caches, writer, settings.exemptNamespaces(), clock);
    singleton(new Singleton("workloaddistributionrule.status", Duration.ofSeconds(10), 0.1, context -> {
      rules.report();
      return Result.done();
    }, leading::get, registry)).start(Duration.ofSeconds(1));
    Rebalancer rebalancer = new Rebalancer(caches, evictions, events, registry, settings.exemptNamespaces(), clock, configs::podEvictor,
        () -> caches.orchestratorConfig().map(c -> c.getSpec().replacementWindow()));
    singleton(new Singleton("distribution.rebalance", Rebalancer.PERIOD, 0.1, context -> {
      rebalancer.rebalance();
      return Result.done();
    }, leading::get, registry)).start(Rebalancer.PERIOD);
    settings.interruptionQueue().ifPresent(q -> {
      InterruptionHandler handler = new InterruptionHandler(client, caches, cloud, events);
      running.add(new InterruptionQueue(sqs.orElseThrow(), q, handler::handle, blocking, timer, registry, clock).start());
    });
    provisioning.start(Duration.ZERO);
    disruption.start(Duration.ZERO);
  }

  /** Reverse fallback, on the ClusterOrchestratorConfig's retry interval when it turns it on. */
  private ReverseFallback reverseFallback(Consolidator consolidator) {
    return new ReverseFallback(consolidator, () -> caches.orchestratorConfig().map(c -> c.getSpec().reverseFallback())
        .filter(r -> Boolean.TRUE.equals(r.enabled())).flatMap(r -> Durations.parse(r.retryInterval())), new ReverseFallback.Report() {
          @Override
          public void waiting(Candidate c, String why) {
            events.normal(c.claim(), "ReverseFallbackWaiting", why);
          }

          @Override
          public void ended(Candidate c, String nodePool, boolean succeeded, Duration backoff) {
            metrics.reverseFallback(nodePool, succeeded);
            if (!succeeded) {
              events.warning(c.claim(), "ReverseFallbackFailed", "The spot replacement for fallback NodeClaim " + c.name()
                  + " did not come; NodePool " + nodePool + " tries reverse fallback again in " + backoff);
            }
          }
        });
  }

  /** Node repair, when its policies are on. */
  private Optional<Method> repair() {
    if (settings.disruption().repair().isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new Repair(settings.disruption().repair(), (c, why) -> {
      events.warning(c.claim(), "NodeRepairBlocked", why);
      c.node().ifPresent(n -> events.warning(n, "NodeRepairBlocked", why));
    }));
  }

  private Singleton singleton(Singleton controller) {
    running.add(controller);
    return controller;
  }

  private void stopLeading() {
    if (!leading.compareAndSet(true, false)) {
      return;
    }
    LOG.warn("{} lost the leader lease: stopping controllers", settings.leaderElection().identity());
    stopControllers();
    if (!closed.get()) {
      onLostLeadership.run();
    }
  }

  private void stopControllers() {
    provisioning = null;
    disruption = null;
    orchestrator = null;
    running.forEach(r -> {
      try {
        r.close();
      } catch (Exception e) {
        LOG.debug("closing {}: {}", r, e.toString());
      }
    });
    running.clear();
  }

  // --- event routing ------------------------------------------------------------------------------

  private void podChanged(Pod before, Pod pod) {
    Provisioner pass = provisioner;
    if (PendingPods.provisionable(pod, settings.schedulerNames()) && (pass == null || !pass.awaitingCapacity(pod.getMetadata().getUid()))) {
      batcher.trigger(pod.getMetadata().getUid());
    }
    claimOfPodNode(pod);
    PodEvents.nodeOfEvent(before, pod).ifPresent(this::podEventOn);
  }

  private void podGone(Pod pod) {
    claimOfPodNode(pod);
    PodEvents.leftNode(pod).ifPresent(this::podEventOn);
  }

  /** A pod was bound to the node or left it: its claim's lastPodEventTime moves. */
  private void podEventOn(String node) {
    if (podEvents != null) {
      caches.nodeClaimOfNode(node).ifPresent(c -> podEvents.enqueue(c.getMetadata().getName()));
    }
  }

  /** A pod on a node being drained changed: the claim's drain may progress. */
  private void claimOfPodNode(Pod pod) {
    String node = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
    if (node != null) {
      caches.nodeClaimOfNode(node).filter(NodeClaims::deleting).ifPresent(c -> enqueue(terminations, c.getMetadata().getName()));
    }
  }

  private void nodeChanged(Node node) {
    String providerId = node.getSpec() == null ? null : node.getSpec().getProviderID();
    if (providerId != null) {
      caches.nodeClaimByProviderId(providerId).ifPresent(c -> {
        enqueue(claims, c.getMetadata().getName());
        enqueue(terminations, c.getMetadata().getName());
      });
    }
  }

  private void claimChanged(NodeClaim claim) {
    enqueue(claims, claim.getMetadata().getName());
    if (NodeClaims.annotation(claim, DovetailLabels.INTERRUPTION) != null && NodeClaims.annotation(claim, NodeMarks.REPLACEMENT_READY) == null
        && caches.nodeClaim(claim.getMetadata().getName()).isPresent()) {
      waitingForReplacement.add(claim.getMetadata().getName());
    } else {
      waitingForReplacement.remove(claim.getMetadata().getName());
    }
    if (NodeClaims.deleting(claim)) {
      enqueue(terminations, claim.getMetadata().getName());
    }
    Singleton pass = disruption;
    Orchestrator decider = orchestrator;
    if (pass != null && NodeClaims.annotation(claim, DovetailLabels.INTERRUPTION) != null) {
      pass.trigger();  // its pods need capacity elsewhere now, not after the drain
    } else if (pass != null && NodeClaims.isTrue(claim, ConditionTypes.INITIALIZED) && !NodeClaims.deleting(claim) && interruptedClaimWaits()) {
      pass.trigger();  // perhaps the replacement an interrupted claim's drain waits for: Ready room for its pods
    } else if (pass != null && decider != null && decider.awaits(claim.getMetadata().getName())) {
      pass.trigger();  // a replacement a disruption waits for: Initialized (go on) or gone (abandon)
    }
    String pool = claim.getMetadata().getLabels() == null ? null : claim.getMetadata().getLabels().get("karpenter.sh/nodepool");
    if (pool != null) {
      enqueue(pools, pool);
    }
  }

  /** Whether an interrupted claim's drain waits for its pods' replacement. */
  private boolean interruptedClaimWaits() {
    return !waitingForReplacement.isEmpty();
  }

  private void nodeClassChanged(EC2NodeClass nodeClass) {
    enqueue(classes, nodeClass.getMetadata().getName());
    // Claims waiting to launch until their class exists or is Ready go on now, not at their next retry.
    for (NodeClaim c : caches.nodeClaims()) {
      var ref = c.getSpec().nodeClassRef();
      if (ref != null && nodeClass.getMetadata().getName().equals(ref.name())) {
        enqueue(claims, c.getMetadata().getName());  // and launched ones may have drifted
      }
    }
    for (NodePool p : caches.nodePools()) {
      var ref = p.getSpec().template().spec().nodeClassRef();
      if (ref != null && nodeClass.getMetadata().getName().equals(ref.name())) {
        enqueue(pools, p.getMetadata().getName());
      }
    }
    batcher.trigger();
  }

  /** The config's status and managed pools, and every pool's window condition, follow the ClusterOrchestratorConfig. */
  private void configChanged() {
    enqueue(orchestratorConfig, ClusterOrchestratorConfig.NAME);
    caches.nodePools().forEach(p -> enqueue(pools, p.getMetadata().getName()));
  }

  private static void enqueue(Controller<String> controller, String key) {
    if (controller != null) {
      controller.enqueue(key);
    }
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    leading.set(false);
    if (election != null) {
      election.cancel(true);  // releases the lease (releaseOnCancel), so a standby takes over at once
    }
    stopControllers();
    faults.close();
    events.close();
    caches.close();
    evictions.close();
    sqs.ifPresent(SqsQueue::close);
    aws.ifPresent(AwsCloud::close);
    timer.shutdownNow();
    gauges.shutdownNow();
    blocking.shutdownNow();
  }
}
