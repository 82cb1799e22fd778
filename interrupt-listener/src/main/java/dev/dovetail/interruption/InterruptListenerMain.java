package dev.dovetail.interruption;

import dev.dovetail.runtime.ComponentMain;
import dev.dovetail.runtime.Launcher;
import dev.dovetail.runtime.LogOptions;
import dev.dovetail.runtime.OpsOptions;
import dev.dovetail.runtime.VersionProvider;
import java.net.URI;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

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
    return ComponentMain.run("interrupt-listener", InterruptListenerMain.class, logging, ops,
        runtime -> "node " + nodeName + ", metadata service " + imdsEndpoint);
  }
}
