package dev.dovetail.provisioner;

import dev.dovetail.api.CustomResources;
import dev.dovetail.runtime.KubeOptions;
import dev.dovetail.runtime.Launcher;
import dev.dovetail.runtime.LogOptions;
import dev.dovetail.runtime.Metrics;
import dev.dovetail.runtime.OpsOptions;
import dev.dovetail.runtime.OpsServer;
import dev.dovetail.runtime.Readiness;
import dev.dovetail.runtime.Version;
import dev.dovetail.runtime.VersionProvider;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Command line of the provisioner. */
@Command(name = "dovetail-provisioner", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    sortOptions = false, usageHelpWidth = 110,
    description = {
        "Karpenter-compatible provisioner. Watches pods kube-scheduler could not place, simulates scheduling",
        "against NodePools and launches the cheapest fitting capacity as NodeClaims through a cloud provider.",
        "Needs the CRDs of manifests/crds; /readyz stays 503 and names the missing ones until they exist."})
public final class ProvisionerMain implements Callable<Integer> {
  @Option(names = "--cluster-name", defaultValue = "${env:CLUSTER_NAME:-dovetail}",
      description = "Cluster name, used in instance tags and metrics. Default: ${DEFAULT-VALUE}.")
  String clusterName;

  @Mixin
  KubeOptions kube;

  @Mixin
  OpsOptions ops;

  @Mixin
  LogOptions logging;

  public static void main(String[] args) {
    System.exit(Launcher.run(new ProvisionerMain(), args));
  }

  @Override
  public Integer call() throws Exception {
    logging.apply();
    Logger log = LoggerFactory.getLogger(ProvisionerMain.class);
    String version = Version.of(ProvisionerMain.class);
    PrometheusMeterRegistry registry = Metrics.registry("provisioner", version);
    KubernetesClient client = kube.client();
    SharedIndexInformer<CustomResourceDefinition> crds = client.apiextensions().v1().customResourceDefinitions().inform();
    List<String> required = CustomResources.ALL.stream().map(CustomResource::getCRDName).toList();
    Vertx vertx = Vertx.vertx();
    OpsServer opsServer = new OpsServer(registry)
        .withReadiness(new Readiness("crds", () -> missingCrds(crds, required)));
    try {
      int[] ports = opsServer.start(vertx, ops).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      log.info("dovetail-provisioner {} for cluster {} against {} (metrics :{}, probes :{})", version, clusterName,
          client.getMasterUrl(), ports[0], ports[1]);
    } catch (Exception e) {
      log.error("dovetail-provisioner could not start: {}", e.getCause() != null ? e.getCause().getMessage() : e.getMessage());
      crds.close();
      client.close();
      vertx.close();
      return 1;
    }
    return Launcher.awaitShutdown(() -> {
      crds.close();
      client.close();
      vertx.close().toCompletionStage().toCompletableFuture().join();
    });
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
