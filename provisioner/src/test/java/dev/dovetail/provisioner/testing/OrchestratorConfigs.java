package dev.dovetail.provisioner.testing;

import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfig;
import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfigSpec;
import dev.dovetail.api.config.v1alpha1.Consolidation;
import dev.dovetail.api.config.v1alpha1.ReplacementWindow;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;

/** The cluster's {@code ClusterOrchestratorConfig} (the one named default), as tests create it. */
public final class OrchestratorConfigs {
  private OrchestratorConfigs() {
  }

  /** The config with this spec. */
  public static ClusterOrchestratorConfig of(ClusterOrchestratorConfigSpec spec) {
    ClusterOrchestratorConfig config = new ClusterOrchestratorConfig();
    config.setMetadata(new ObjectMetaBuilder().withName(ClusterOrchestratorConfig.NAME).build());
    config.setSpec(spec);
    return config;
  }

  /** The config with these node disruption settings and nothing else. */
  public static ClusterOrchestratorConfig consolidation(Consolidation consolidation) {
    return of(new ClusterOrchestratorConfigSpec(null, null, null, null, consolidation, null));
  }

  /** The config with this replacement window and nothing else. */
  public static ClusterOrchestratorConfig replacementWindow(ReplacementWindow window) {
    return of(new ClusterOrchestratorConfigSpec(null, null, null, null, null, window));
  }
}
