package dev.dovetail.state;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.NodeStatus;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

/**
 * Deserialization for read-only caches: it skips what no Dovetail decision reads and what costs the
 * most to build (managed fields, container statuses, environment, probes, node image lists). Decoding
 * watch events is most of a cache's CPU; with these skipped it drops by about half, and so does memory.
 * Objects decoded this way must never be written back.
 */
final class TrimmedSerialization {
  private TrimmedSerialization() {
  }

  @JsonIgnoreProperties({"managedFields"})
  private interface Metadata {
  }

  @JsonIgnoreProperties({"containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"})
  private interface PodStatusFields {
  }

  @JsonIgnoreProperties({"env", "envFrom", "volumeMounts", "volumeDevices", "livenessProbe", "readinessProbe", "startupProbe",
      "lifecycle", "command", "args", "workingDir", "terminationMessagePath", "terminationMessagePolicy"})
  private interface ContainerFields {
  }

  @JsonIgnoreProperties({"images"})
  private interface NodeStatusFields {
  }

  static KubernetesSerialization create() {
    ObjectMapper mapper = new ObjectMapper()
        .addMixIn(ObjectMeta.class, Metadata.class)
        .addMixIn(PodStatus.class, PodStatusFields.class)
        .addMixIn(Container.class, ContainerFields.class)
        .addMixIn(NodeStatus.class, NodeStatusFields.class);
    return new KubernetesSerialization(mapper, true);
  }
}
