package dev.dovetail.provisioner.provisioning;

import dev.dovetail.api.scheduling.Requirements;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Volume;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Where a pod's bound volumes let it run: a bound PersistentVolume with required node affinity (an
 * EBS volume lives in one zone) adds that affinity to the pod's requirements, so the claim launched
 * for it lands in the volume's zone.
 */
public final class VolumeTopology {
  private final BiFunction<String, String, Optional<PersistentVolumeClaim>> claims;
  private final Function<String, Optional<PersistentVolume>> volumes;

  public VolumeTopology(BiFunction<String, String, Optional<PersistentVolumeClaim>> claims,
      Function<String, Optional<PersistentVolume>> volumes) {
    this.claims = claims;
    this.volumes = volumes;
  }

  public Requirements requirements(Pod pod) {
    Requirements out = Requirements.NONE;
    if (pod.getSpec() == null || pod.getSpec().getVolumes() == null) {
      return out;
    }
    for (Volume v : pod.getSpec().getVolumes()) {
      if (v.getPersistentVolumeClaim() == null) {
        continue;
      }
      Optional<PersistentVolume> pv = claims.apply(pod.getMetadata().getNamespace(), v.getPersistentVolumeClaim().getClaimName())
          .map(c -> c.getSpec() == null ? null : c.getSpec().getVolumeName())
          .flatMap(volumes);
      if (pv.isEmpty() || pv.get().getSpec().getNodeAffinity() == null || pv.get().getSpec().getNodeAffinity().getRequired() == null) {
        continue;
      }
      var terms = pv.get().getSpec().getNodeAffinity().getRequired().getNodeSelectorTerms();
      // Several terms are ORed; volumes in practice have one (the zone), which is what we honour.
      if (terms != null && terms.size() == 1) {
        out = out.and(Requirements.ofTerm(terms.get(0)));
      }
    }
    return out;
  }
}
