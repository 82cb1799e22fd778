package dev.dovetail.provisioner;

import dev.dovetail.api.CustomResources;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.provisioner.cloud.aws.AwsCloud;
import dev.dovetail.provisioner.cloud.sim.SimFaults;
import dev.dovetail.provisioner.disruption.Repair;
import dev.dovetail.provisioner.interruption.InterruptionQueue;
import dev.dovetail.provisioner.metrics.KarpenterMetrics;
import dev.dovetail.runtime.ComponentMain;
import dev.dovetail.runtime.DurationConverter;
import dev.dovetail.runtime.KubeClients;
import dev.dovetail.runtime.KubeOptions;
import dev.dovetail.runtime.Launcher;
import dev.dovetail.runtime.LogOptions;
import dev.dovetail.runtime.OpsOptions;
import dev.dovetail.runtime.Readiness;
import dev.dovetail.runtime.VersionProvider;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Command line of the provisioner. */
@Command(name = "dovetail-provisioner", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    sortOptions = false, usageHelpWidth = 120,
    description = {
        "Karpenter-compatible provisioner. Watches pods kube-scheduler could not place, simulates scheduling",
        "against NodePools and launches the cheapest fitting capacity as NodeClaims through a cloud provider",
        "(the built-in simulated cloud by default: it registers kwok-managed Nodes and charges catalog prices).",
        "Needs the CRDs of manifests/crds; /readyz stays 503 and names the missing ones until they exist."})
public final class ProvisionerMain implements Callable<Integer> {
  @Option(names = "--cluster-name", defaultValue = "${env:CLUSTER_NAME:-dovetail}",
      description = "Cluster name, used in instance tags and metrics. Default: ${DEFAULT-VALUE}.")
  String clusterName;

  @Option(names = "--cloud-provider", defaultValue = "${env:CLOUD_PROVIDER:-sim}",
      description = "Where capacity comes from: sim (simulated, no AWS account needed) or aws (EC2 Fleet). Default: ${DEFAULT-VALUE}.")
  String cloudProvider;

  @Option(names = "--cluster-endpoint", defaultValue = "${env:CLUSTER_ENDPOINT}",
      description = "aws: the API server URL nodes join (Karpenter's CLUSTER_ENDPOINT).")
  String clusterEndpoint;

  @Option(names = "--cluster-ca-bundle", defaultValue = "${env:CLUSTER_CA_BUNDLE}",
      description = "aws: the API server's CA bundle, base64 PEM, for the node bootstrap.")
  String clusterCaBundle;

  @Option(names = "--service-cidr", defaultValue = "${env:SERVICE_CIDR:-10.100.0.0/16}",
      description = "aws: the cluster's service CIDR, for the node bootstrap. Default: ${DEFAULT-VALUE}.")
  String serviceCidr;

  @Option(names = "--spot-allocation-strategy", defaultValue = "price-capacity-optimized",
      description = "aws: the spot allocation strategy of launches no distribution rule sets one for (CostOptimized workloads get "
          + "lowest-price, LeastInterrupted ones capacity-optimized). Default: ${DEFAULT-VALUE}.")
  String spotStrategy;

  @Option(names = "--namespace", defaultValue = "${env:POD_NAMESPACE:-kube-system}",
      description = "Namespace of the leader-election Lease and the sim ConfigMap. Default: ${DEFAULT-VALUE}.")
  String namespace;

  @Option(names = "--scheduler-names", split = ",", defaultValue = "default-scheduler,dovetail-scheduler",
      description = "Provision for pods of these schedulers only. Default: ${DEFAULT-VALUE}.")
  List<String> schedulerNames;

  @Option(names = "--batch-idle-duration", defaultValue = "${env:BATCH_IDLE_DURATION:-1s}", converter = DurationConverter.class,
      description = "A batch of pending pods closes after this long without a new one (Karpenter's BATCH_IDLE_DURATION). Default: ${DEFAULT-VALUE}.")
  Duration batchIdle;

  @Option(names = "--batch-max-duration", defaultValue = "${env:BATCH_MAX_DURATION:-10s}", converter = DurationConverter.class,
      description = "... or after this long in any case (Karpenter's BATCH_MAX_DURATION). Default: ${DEFAULT-VALUE}.")
  Duration batchMax;

  @Option(names = "--registration-ttl", defaultValue = "15m", converter = DurationConverter.class,
      description = "A launched NodeClaim whose node has not registered by then is deleted and replaced. Default: ${DEFAULT-VALUE}.")
  Duration registrationTtl;

  @Option(names = "--launch-group-wait", defaultValue = "30s", converter = DurationConverter.class,
      description = "Nodes launched in one pass are released to the scheduler together, waiting at most this long for each other "
          + "(so zone spread sees all their zones). 0s releases each node at once. Default: ${DEFAULT-VALUE}.")
  Duration launchGroupWait;

  @Option(names = "--exempt-namespaces", split = ",", defaultValue = "kube-system",
      description = "Namespaces whose pods distribution rules never govern (as the extender's flag). Default: ${DEFAULT-VALUE}.")
  List<String> exemptNamespaces;

  @Option(names = "--garbage-collection-grace", defaultValue = "5m", converter = DurationConverter.class,
      description = "An instance launched for this cluster that no NodeClaim owns is terminated once it is this old (room for launches "
          + "whose claim has not recorded them yet). Default: ${DEFAULT-VALUE}.")
  Duration orphanGrace;

  @Option(names = "--interruption-eviction-lead", defaultValue = "45s", converter = DurationConverter.class,
      description = "A spot-interrupted NodeClaim's drain waits for the replacement launched for its pods to be Ready (they keep running "
          + "meanwhile) until this long before its deadline (the reclaim less 15 s), or each pod's termination grace period plus 10 s if "
          + "longer; 0 evicts at once. The interrupt listener's --eviction-lead does the same on the node. Default: ${DEFAULT-VALUE}.")
  Duration interruptionEvictionLead;

  @Option(names = "--unavailable-offerings-ttl", defaultValue = "3m", converter = DurationConverter.class,
      description = "How long an offering that had no capacity (an insufficient-capacity error, a spot interruption) stays out of "
          + "simulations and launches; spot fallback and reverse fallback wait on it. Karpenter keeps 3m. Default: ${DEFAULT-VALUE}.")
  Duration unavailableOfferingsTtl;

  @Option(names = "--disruption-validation-delay", defaultValue = "15s", converter = DurationConverter.class,
      description = "How long a consolidation decision waits before it is checked again and carried out; Karpenter waits 15s. Default: ${DEFAULT-VALUE}.")
  Duration disruptionValidation;

  @Option(names = "--feature-gates", defaultValue = "${env:FEATURE_GATES:-}",
      description = "Karpenter's feature gates, Name=true|false comma-separated (also from FEATURE_GATES): SpotToSpotConsolidation (default "
          + "false) lets consolidation replace spot nodes with cheaper spot ones; NodeRepair (default false) replaces nodes unhealthy past AWS's "
          + "repair policies; ReservedCapacity, NodeOverlay and StaticCapacity are accepted and not acted on.")
  String featureGates;

  @Option(names = "--concurrency", defaultValue = "10",
      description = "NodeClaims reconciled at once. Default: ${DEFAULT-VALUE}.")
  int concurrency;

  @Option(names = "--sim-boot-delay", defaultValue = "3s", converter = DurationConverter.class,
      description = "sim: time from launch until the node registers. Default: ${DEFAULT-VALUE}.")
  Duration simBootDelay;

  @Option(names = "--sim-launch-latency", defaultValue = "0s", converter = DurationConverter.class,
      description = "sim: how long each launch call takes. Default: ${DEFAULT-VALUE}.")
  Duration simLaunchLatency;

  @Option(names = "--sim-launch-failure-rate", defaultValue = "0",
      description = "sim: share (0-1) of launches that fail with an API error. Default: ${DEFAULT-VALUE}.")
  double simLaunchFailureRate;

  @Option(names = "--sim-insufficient-capacity", split = ",", paramLabel = "TYPE/ZONE/CAPACITY",
      description = "sim: offerings without capacity, '*' for any part, e.g. '*/us-east-1a/spot,m5.large/*/*'.")
  List<String> simInsufficientCapacity = List.of();

  @Option(names = "--sim-config-map", defaultValue = "dovetail-sim",
      description = "sim: ConfigMap ([namespace/]name) whose data replaces the sim flags while it exists (keys insufficientCapacity, "
          + "launchFailureRate, launchLatency, bootDelay). Default: ${DEFAULT-VALUE}.")
  String simConfigMap;

  @Option(names = "--interruption-queue", defaultValue = "${env:INTERRUPTION_QUEUE}",
      description = "Queue mode: the SQS queue (name or URL) EventBridge feeds with EC2 spot interruption, rebalance, scheduled-change and "
          + "state-change events (Karpenter's INTERRUPTION_QUEUE). The leader reads it and drains and replaces the instances named. "
          + "Unset: off (the interrupt-listener DaemonSet reads IMDS on each node instead).")
  String interruptionQueue;

  @Option(names = "--interruption-queue-visibility-timeout", defaultValue = "20s", converter = DurationConverter.class,
      description = "How long a received message stays hidden; one whose handling failed comes back after this. Default: ${DEFAULT-VALUE}.")
  Duration interruptionVisibility;

  @Option(names = "--aws-region", defaultValue = "${env:AWS_REGION}",
      description = "AWS Region of the cluster (EC2 calls, the queue). Default: AWS_REGION, else the SDK's region chain.")
  String awsRegion;

  @Option(names = "--aws-endpoint-url", defaultValue = "${env:AWS_ENDPOINT_URL}",
      description = "Send AWS calls to this endpoint instead of AWS (moto or another local fake, for testing). Default: AWS_ENDPOINT_URL.")
  String awsEndpoint;

  @Option(names = "--leader-elect", defaultValue = "true", negatable = true, fallbackValue = "true",
      description = "Run controllers only while holding the leader Lease. Default: ${DEFAULT-VALUE}.")
  boolean leaderElect;

  @Option(names = "--leader-election-lease", defaultValue = "dovetail-provisioner",
      description = "Name of the leader-election Lease. Default: ${DEFAULT-VALUE}.")
  String leaseName;

  @Option(names = "--leader-election-identity", defaultValue = "${env:POD_NAME}",
      description = "This replica's name in the Lease. Default: the pod name, else host name plus a random suffix.")
  String identity;

  @Option(names = "--leader-election-lease-duration", defaultValue = "15s", converter = DurationConverter.class,
      description = "How long a lease holds without renewal. Default: ${DEFAULT-VALUE}.")
  Duration leaseDuration;

  @Option(names = "--leader-election-renew-deadline", defaultValue = "10s", converter = DurationConverter.class,
      description = "How long the leader keeps trying to renew before giving up. Default: ${DEFAULT-VALUE}.")
  Duration renewDeadline;

  @Option(names = "--leader-election-retry-period", defaultValue = "2s", converter = DurationConverter.class,
      description = "How often candidates try to acquire or renew. Default: ${DEFAULT-VALUE}.")
  Duration retryPeriod;

  @Mixin
  KubeOptions kube;

  @Mixin
  OpsOptions ops;

  @Mixin
  LogOptions logging;

  public static void main(String[] args) {
    System.exit(Launcher.run(new ProvisionerMain(), args));
  }

  /** The settings the flags describe; invalid combinations fail with a message naming the flag. */
  Operator.Settings settings() {
    if (!"sim".equals(cloudProvider) && !"aws".equals(cloudProvider)) {
      throw new IllegalArgumentException("--cloud-provider must be sim or aws, not " + cloudProvider);
    }
    if (concurrency < 1) {
      throw new IllegalArgumentException("--concurrency must be at least 1");
    }
    if (!(simLaunchFailureRate >= 0 && simLaunchFailureRate <= 1)) {
      throw new IllegalArgumentException("--sim-launch-failure-rate must be between 0 and 1, not " + simLaunchFailureRate);
    }
    List<SimFaults.OfferingPattern> patterns;
    try {
      patterns = simInsufficientCapacity.stream().map(SimFaults.OfferingPattern::parse).toList();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--sim-insufficient-capacity: " + e.getMessage(), e);
    }
    if (interruptionVisibility.compareTo(Duration.ofHours(12)) > 0) {
      throw new IllegalArgumentException("--interruption-queue-visibility-timeout may be at most 12h (SQS's limit), not "
          + text(interruptionVisibility));
    }
    if (leaderElect) {
      leaseTimings(leaseDuration, renewDeadline, retryPeriod);
    }
    SimFaults faults = new SimFaults(patterns, simLaunchFailureRate, simLaunchLatency, simBootDelay);
    Set<String> exempt = new LinkedHashSet<>(exemptNamespaces);
    String who = identity != null && !identity.isBlank() ? identity : host() + "-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    Optional<InterruptionQueue.Settings> queue = interruptionQueue == null || interruptionQueue.isBlank() ? Optional.empty()
        : Optional.of(new InterruptionQueue.Settings(interruptionQueue.trim(), blankToEmpty(awsRegion), blankToEmpty(awsEndpoint).map(ProvisionerMain::endpoint),
            interruptionVisibility));
    Map<String, Boolean> gates = featureGates(featureGates);
    return new Operator.Settings(clusterName, Set.copyOf(schedulerNames), batchIdle, batchMax, registrationTtl, launchGroupWait, exempt, faults,
        simConfigMap == null || simConfigMap.isBlank() ? Optional.empty() : Optional.of(simConfigMap), namespace,
        new Operator.LeaderElection(leaderElect, leaseName, who, leaseDuration, renewDeadline, retryPeriod), concurrency, queue,
        "aws".equals(cloudProvider) ? Optional.of(awsOptions()) : Optional.empty(), orphanGrace,
        new Operator.Disruption(disruptionValidation, gates.getOrDefault("SpotToSpotConsolidation", false),
            gates.getOrDefault("NodeRepair", false) ? Repair.AWS : List.of(), interruptionEvictionLead), unavailableOfferingsTtl);
  }

  /** Karpenter's feature gates known here; an unknown name or a value other than true/false is an error. */
  static Map<String, Boolean> featureGates(String value) {
    Set<String> known = Set.of("SpotToSpotConsolidation", "NodeRepair", "ReservedCapacity", "NodeOverlay", "StaticCapacity");
    Map<String, Boolean> out = new TreeMap<>();
    if (value == null || value.isBlank()) {
      return out;
    }
    for (String gate : value.split(",")) {
      String[] kv = gate.trim().split("=", 2);
      if (kv.length != 2 || !known.contains(kv[0].trim()) || !Set.of("true", "false").contains(kv[1].trim())) {
        throw new IllegalArgumentException("--feature-gates: expected Name=true|false with Name one of " + new TreeSet<>(known) + ", got \"" + gate.trim()
            + "\"");
      }
      out.put(kv[0].trim(), Boolean.parseBoolean(kv[1].trim()));
    }
    return out;
  }

  /**
   * The leader-election timings client-go insists on: a leader that cannot renew stops leading (at the
   * renew deadline) before its lease runs out and another replica may take over, and renewals are retried
   * more than once before the deadline.
   */
  static void leaseTimings(Duration lease, Duration renewDeadline, Duration retryPeriod) {
    if (renewDeadline.compareTo(lease) >= 0) {
      throw new IllegalArgumentException("--leader-election-renew-deadline (" + text(renewDeadline) + ") must be shorter than "
          + "--leader-election-lease-duration (" + text(lease) + "), or two replicas could lead at once");
    }
    if (retryPeriod.isZero() || retryPeriod.multipliedBy(6).dividedBy(5).compareTo(renewDeadline) >= 0) {
      throw new IllegalArgumentException("--leader-election-retry-period (" + text(retryPeriod) + ") must be above zero and under "
          + "--leader-election-renew-deadline (" + text(renewDeadline) + ") by more than its jitter (x1.2)");
    }
  }

  /** A duration as the flags write it (15s, 500ms). */
  private static String text(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
  }

  private AwsCloud.Options awsOptions() {
    if (clusterEndpoint == null || clusterEndpoint.isBlank()) {
      throw new IllegalArgumentException("--cloud-provider aws needs --cluster-endpoint (or CLUSTER_ENDPOINT): the URL nodes join");
    }
    if (clusterCaBundle == null || clusterCaBundle.isBlank()) {
      throw new IllegalArgumentException("--cloud-provider aws needs --cluster-ca-bundle (or CLUSTER_CA_BUNDLE): the API server's CA, base64");
    }
    return new AwsCloud.Options(blankToEmpty(awsRegion), blankToEmpty(awsEndpoint).map(ProvisionerMain::endpoint), clusterEndpoint.trim(),
        clusterCaBundle.trim(), serviceCidr, spotStrategy);
  }

  private static Optional<String> blankToEmpty(String value) {
    return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.trim());
  }

  private static URI endpoint(String url) {
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("--aws-endpoint-url " + url + " is not a URL: " + e.getReason());
    }
    if (uri.getScheme() == null || uri.getHost() == null || !uri.getScheme().startsWith("http")) {
      throw new IllegalArgumentException("--aws-endpoint-url " + url + " must be an http(s) URL with a host");
    }
    return uri;
  }

  private static String host() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "provisioner";
    }
  }

  @Override
  public Integer call() {
    return ComponentMain.run("provisioner", ProvisionerMain.class, logging, ops, runtime -> {
      Operator.Settings settings = settings();
      KubernetesClient client = runtime.closeOnShutdown(KubeClients.connect(kube));
      SharedIndexInformer<CustomResourceDefinition> crds =
          runtime.closeOnShutdown(client.apiextensions().v1().customResourceDefinitions().inform());
      List<String> required = CustomResources.ALL.stream().map(CustomResource::getCRDName).toList();
      runtime.ops().withReadiness(new Readiness("crds", () -> missingCrds(crds, required)));
      runtime.ops().withRenames(KarpenterMetrics.RENAMES);
      Operator operator = new Operator(settings, client, Catalog.bundled(), runtime.registry(), Clock.systemUTC())
          .onLostLeadership(() -> {
            // As controller-runtime does: a replica that lost the lease exits and restarts as a standby.
            LoggerFactory.getLogger(ProvisionerMain.class).error("lost the leader lease; exiting");
            Runtime.getRuntime().halt(1);
          });
      runtime.closeOnShutdown(operator);
      runtime.ops().withReadiness(new Readiness("caches", () -> operator.caches().synced() ? Optional.empty()
          : Optional.of("caches have not listed pods, nodes, NodePools, NodeClaims and EC2NodeClasses yet")));
      waitForCrds(crds, required);
      operator.start();
      return "cluster " + settings.clusterName() + " at " + client.getMasterUrl() + ", cloud " + operator.cloud().name()
          + settings.interruptionQueue().map(q -> ", interruption queue " + q.queue()).orElse("")
          + (settings.leaderElection().enabled() ? ", leader election as " + settings.leaderElection().identity() + " on Lease "
              + settings.namespace() + "/" + settings.leaderElection().lease() : ", no leader election");
    });
  }

  /** Informers on custom resources fail while their CRDs are missing: wait for them (readiness says why). */
  private static void waitForCrds(SharedIndexInformer<CustomResourceDefinition> crds, List<String> required) throws InterruptedException {
    long logged = 0;
    while (missingCrds(crds, required).isPresent()) {
      if (System.nanoTime() - logged > 30_000_000_000L) {
        LoggerFactory.getLogger(ProvisionerMain.class).warn("waiting: {}", missingCrds(crds, required).get());
        logged = System.nanoTime();
      }
      Thread.sleep(500);
    }
  }

  /** The CRDs Dovetail serves that the API server does not have Established; empty when all are. */
  static Optional<String> missingCrds(SharedIndexInformer<CustomResourceDefinition> crds, List<String> required) {
    if (!crds.hasSynced()) {
      return Optional.of("CustomResourceDefinition informer has not synced");
    }
    List<String> missing = required.stream().filter(name -> {
      CustomResourceDefinition crd = crds.getStore().getByKey(name);
      return crd == null || crd.getStatus() == null || crd.getStatus().getConditions() == null
          || crd.getStatus().getConditions().stream().noneMatch(c -> "Established".equals(c.getType()) && "True".equals(c.getStatus()));
    }).toList();
    return missing.isEmpty() ? Optional.empty() : Optional.of("CRDs not installed or not established: " + missing
        + " (kubectl apply -f manifests/crds)");
  }
}
