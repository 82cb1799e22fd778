package dev.dovetail.interruption;

import dev.dovetail.interruption.imds.Imds;
import dev.dovetail.interruption.imds.NoticeReader;
import dev.dovetail.interruption.kube.Events;
import dev.dovetail.interruption.kube.KubeApi;
import dev.dovetail.interruption.kube.KubeConfig;
import dev.dovetail.runtime.ComponentMain;
import dev.dovetail.runtime.DurationConverter;
import dev.dovetail.runtime.KubeOptions;
import dev.dovetail.runtime.Launcher;
import dev.dovetail.runtime.LogOptions;
import dev.dovetail.runtime.OpsOptions;
import dev.dovetail.runtime.Readiness;
import dev.dovetail.runtime.VersionProvider;
import dev.dovetail.runtime.events.EventRecorder;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** Command line of the per-node interrupt listener. */
@Command(name = "dovetail-interrupt-listener", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    sortOptions = false, usageHelpWidth = 110,
    description = {
        "Per-node agent (DaemonSet) for spot nodes. Reads spot interruption, rebalance and scheduled-maintenance",
        "notices from the instance metadata service (IMDSv2) and taints, cordons and drains its own node."})
public final class InterruptListenerMain implements Callable<Integer> {
  @Option(names = "--node-name", defaultValue = "${env:NODE_NAME}",
      description = "Name of the Node this agent runs on (the DaemonSet passes spec.nodeName). Required.")
  String nodeName;

  @Option(names = "--imds-endpoint", defaultValue = "${env:IMDS_ENDPOINT:-http://169.254.169.254}",
      description = "Base URL of the instance metadata service. Default: ${DEFAULT-VALUE}.")
  URI imdsEndpoint;

  @Option(names = "--poll-interval", defaultValue = "1s", converter = DurationConverter.class,
      description = "How often IMDS is read (each poll is shifted by up to a quarter at random). Default: ${DEFAULT-VALUE}.")
  Duration pollInterval;

  @Option(names = "--rebalance-action", defaultValue = "taint",
      description = "What a rebalance recommendation does: taint (NoSchedule), cordon (taint and cordon) or drain. Default: ${DEFAULT-VALUE}.")
  Agent.RebalanceAction rebalanceAction;

  @Option(names = "--drain-margin", defaultValue = "15s", converter = DurationConverter.class,
      description = "The drain finishes this long before the instance-action or maintenance time. Default: ${DEFAULT-VALUE}.")
  Duration drainMargin;

  @Option(names = "--eviction-lead", defaultValue = "45s", converter = DurationConverter.class,
      description = "After a spot interruption notice, the drain of a node with a NodeClaim waits for the provisioner's replacement to be "
          + "Ready (the pods keep running meanwhile) until this long before the drain's deadline, or each pod's termination grace period "
          + "plus 10 s if longer; 0 evicts at once. Default: ${DEFAULT-VALUE}.")
  Duration evictionLead;

  @Option(names = "--maintenance-lead", defaultValue = "10m", converter = DurationConverter.class,
      description = "Scheduled maintenance starting within this long cordons and drains the node. Default: ${DEFAULT-VALUE}.")
  Duration maintenanceLead;

  @Option(names = "--imds-token-ttl", defaultValue = "6h", converter = DurationConverter.class,
      description = "Lifetime asked for each IMDSv2 session token (renewed at 80 %%). Default: ${DEFAULT-VALUE}.")
  Duration tokenTtl;

  @Mixin
  KubeOptions kube;

  @Mixin
  OpsOptions ops;

  @Mixin
  LogOptions logging;

  @Spec
  CommandSpec spec;

  public static void main(String[] args) {
    System.exit(Launcher.run(new InterruptListenerMain(), args));
  }

  @Override
  public Integer call() {
    if (nodeName == null || nodeName.isBlank()) {
      throw new ParameterException(spec.commandLine(), "--node-name (or NODE_NAME) is required: the agent acts only on its own node");
    }
    if (imdsEndpoint.getScheme() == null || !imdsEndpoint.getScheme().startsWith("http")) {
      throw new ParameterException(spec.commandLine(), "--imds-endpoint must be an http(s) URL, not " + imdsEndpoint);
    }
    if (pollInterval.compareTo(Duration.ofMillis(200)) < 0 || pollInterval.compareTo(Duration.ofSeconds(10)) > 0) {
      throw new ParameterException(spec.commandLine(), "--poll-interval must be between 200ms and 10s (a notice gives two minutes)");
    }
    return ComponentMain.run("interrupt-listener", InterruptListenerMain.class, logging, ops, runtime -> {
      Clock clock = Clock.systemUTC();
      // Its own small API client, not fabric8's: the DSL and model cost this per-node agent more memory than all else.
      // One HTTP client for IMDS and the API server, with two threads (nothing blocks in them: the agent acts
      // in its own threads), and the API server's TLS context, so the JDK's CA bundle is never loaded.
      KubeConfig config = KubeConfig.load(kube.kubeconfigFile(), clock);
      HttpClient http = KubeApi.httpClient(config, Duration.ofSeconds(2), Executors.newFixedThreadPool(2, daemon("http-client")));
      KubeApi api = KubeApi.on(http, config, Duration.ofSeconds(10));
      NoticeReader reader = new NoticeReader(new Imds(http, imdsEndpoint, tokenTtl, Duration.ofSeconds(2), clock), clock);
      EventRecorder events = runtime.closeOnShutdown(
          new EventRecorder(new Events(api), "dovetail-interrupt-listener", clock, nodeName, runtime.registry(), Events.QUEUE));
      Agent agent = runtime.closeOnShutdown(new Agent(reader, new NodeActions(api, nodeName), new Drainer(api, nodeName, clock),
          events, new Agent.Settings(nodeName, pollInterval, rebalanceAction, drainMargin, maintenanceLead, evictionLead), runtime.registry(), clock));
      runtime.ops().withReadiness(new Readiness("imds", agent::notReady));
      agent.start();
      return "node " + nodeName + ", metadata service " + imdsEndpoint + ", polling every " + pollInterval;
    });
  }

  private static ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
