package dev.dovetail.provisioner;

import dev.dovetail.api.CustomResources;
import dev.dovetail.runtime.ComponentMain;
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
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
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
  public Integer call() {
    return ComponentMain.run("provisioner", ProvisionerMain.class, logging, ops, runtime -> {
      KubernetesClient client = runtime.closeOnShutdown(kube.client());
      SharedIndexInformer<CustomResourceDefinition> crds =
          runtime.closeOnShutdown(client.apiextensions().v1().customResourceDefinitions().inform());
      List<String> required = CustomResources.ALL.stream().map(CustomResource::getCRDName).toList();
      runtime.ops().withReadiness(new Readiness("crds", () -> missingCrds(crds, required)));
      return "cluster " + clusterName + " at " + client.getMasterUrl();
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
