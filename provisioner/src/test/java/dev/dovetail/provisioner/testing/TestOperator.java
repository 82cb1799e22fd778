package dev.dovetail.provisioner.testing;

import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.provisioner.Operator;
import dev.dovetail.provisioner.cloud.CloudProvider;
import dev.dovetail.provisioner.cloud.UnavailableOfferings;
import dev.dovetail.provisioner.cloud.sim.SimFaults;
import dev.dovetail.provisioner.cluster.Caches;
import dev.dovetail.provisioner.disruption.Repair;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The provisioner ({@link Operator}: caches, every controller, the simulated cloud) in this JVM against
 * the test's API server, leading at once (no leader election). Closing it stops the provisioner and
 * {@link Sweep sweeps} what the test made, so each test starts from an empty cluster.
 *
 * <p>By default the simulated cloud's instances never boot on their own (a boot delay of an hour): the
 * test plays their kubelet ({@link Kubelet#register}), so it decides when a Node appears and how it looks.
 */
public final class TestOperator implements AutoCloseable {
  /** The provisioner's settings, with test defaults; every setter replaces what was there. */
  public static final class Options {
    private Duration registrationTtl = Duration.ofMinutes(15);
    private Duration orphanGrace = Duration.ofMinutes(5);
    private Duration disruptionValidation = Duration.ofSeconds(2);
    private boolean spotToSpot;
    private List<Repair.Policy> repair = List.of();
    private Duration bootDelay = Duration.ofHours(1);
    private Optional<String> simConfigMap = Optional.empty();
    private String insufficientCapacity = "";
    private double launchFailureRate;
    private Duration batchIdle = Duration.ofMillis(200);
    private Duration batchMax = Duration.ofSeconds(2);
    private Duration launchGroupWait = Duration.ZERO;

    /** How long a launch group's claims hold their nodes back waiting for the group's other nodes (none by default). */
    public Options launchGroupWait(Duration value) {
      launchGroupWait = value;
      return this;
    }

    public Options registrationTtl(Duration value) {
      this.registrationTtl = value;
      return this;
    }

    /** Karpenter's SpotToSpotConsolidation feature gate. */
    public Options spotToSpot(boolean value) {
      this.spotToSpot = value;
      return this;
    }

    /** Karpenter's NodeRepair feature gate on, with these policies (tolerations short enough for a test). */
    public Options nodeRepair(Repair.Policy... policies) {
      this.repair = List.of(policies);
      return this;
    }

    public Options disruptionValidation(Duration value) {
      this.disruptionValidation = value;
      return this;
    }

    public Options orphanGrace(Duration value) {
      this.orphanGrace = value;
      return this;
    }

    /** How long after launch the simulated cloud registers the Node itself ({@code Duration.ZERO}: at once). */
    public Options bootDelay(Duration value) {
      this.bootDelay = value;
      return this;
    }

    /** Offerings without capacity in the simulated cloud ({@code type/zone/capacity-type}, {@code *} for any, comma-separated). */
    public Options insufficientCapacity(String patterns) {
      this.insufficientCapacity = patterns;
      return this;
    }

    /** The share of the simulated cloud's launches that fail with an API error. */
    public Options launchFailureRate(double value) {
      this.launchFailureRate = value;
      return this;
    }

    /** The ConfigMap ({@code namespace/name}) the simulated cloud reads its faults from. */
    public Options simConfigMap(String namespaceAndName) {
      this.simConfigMap = Optional.of(namespaceAndName);
      return this;
    }

    Operator.Settings settings() {
      return new Operator.Settings("api-test", Set.of("default-scheduler"), batchIdle, batchMax, registrationTtl, launchGroupWait,
          Set.of("kube-system"), new SimFaults(SimFaults.patterns(insufficientCapacity), launchFailureRate, Duration.ZERO, bootDelay), simConfigMap,
          "kube-system",
          new Operator.LeaderElection(false, "dovetail-provisioner-api-test", "api-test", Duration.ofSeconds(15), Duration.ofSeconds(10),
              Duration.ofSeconds(2)), 4, Optional.empty(), Optional.empty(), orphanGrace,
          new Operator.Disruption(disruptionValidation, spotToSpot, repair), UnavailableOfferings.DEFAULT_TTL);
    }
  }

  private final KubernetesClient client;
  private final Options options;
  private Operator operator;
  private MeterRegistry registry;

  private TestOperator(KubernetesClient client, Options options) {
    this.client = client;
    this.options = options;
    start();
  }

  private void start() {
    registry = new SimpleMeterRegistry();
    operator = new Operator(options.settings(), client, Catalog.bundled(), registry, Clock.systemUTC()).start();
  }

  /**
   * Starts the provisioner with the options as overridden. It finds what the test made before (each test
   * leaves an empty cluster behind: see {@link #close}).
   */
  @SafeVarargs
  public static TestOperator start(KubernetesClient client, UnaryOperator<Options>... overrides) {
    Options options = new Options();
    for (UnaryOperator<Options> o : overrides) {
      options = o.apply(options);
    }
    return new TestOperator(client, options);
  }

  /**
   * Stops the provisioner and starts a new one with the same settings on the cluster as it is, as a new
   * leader would take over (what the simulated cloud kept only in memory is gone, as after a restart).
   */
  public TestOperator restart() {
    operator.close();
    start();
    return this;
  }

  public Operator operator() {
    return operator;
  }

  public Caches caches() {
    return operator.caches();
  }

  public CloudProvider cloud() {
    return operator.cloud();
  }

  public MeterRegistry registry() {
    return registry;
  }

  @Override
  public void close() {
    operator.close();
    Sweep.all(client);
  }

  /**
   * The provisioner of one test, closed after it: {@code @RegisterExtension final TestOperator.PerTest operator =
   * new TestOperator.PerTest();}, then {@code operator.start(client)} in the test.
   */
  public static final class PerTest implements AfterEachCallback {
    private TestOperator running;

    @SafeVarargs
    public final TestOperator start(KubernetesClient client, UnaryOperator<Options>... overrides) {
      if (running != null) {
        throw new IllegalStateException("a second provisioner in one test");
      }
      running = TestOperator.start(client, overrides);
      return running;
    }

    @Override
    public void afterEach(ExtensionContext context) {
      if (running != null) {
        running.close();
        running = null;
      }
    }
  }
}
