package dev.dovetail.state;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.NodeStatus;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

/**
 * Deserialization for read-only caches: it skips what no Dovetail decision reads and what costs the
 * most to build (managed fields, container statuses, environment, probes, node image lists). Decoding
 * watch events is most of a cache's CPU; with these skipped it drops by about half, and so does memory.
 * Objects decoded this way must never be written back.
 *
 * <p>{@link #derivedStateOnly()} goes further, for a process that reads only the cluster view's derived
 * state (the extender): pods keep their owners, node name, phase, deletion time and requests; nodes their
 * labels, allocatable and unschedulable flag.
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

  @JsonIgnoreProperties({"managedFields", "annotations"})
  private interface LeanMetadata {
  }

  @JsonIgnoreProperties({"volumes", "tolerations", "affinity", "topologySpreadConstraints", "securityContext", "dnsConfig", "dnsPolicy",
      "hostAliases", "imagePullSecrets", "readinessGates", "schedulingGates", "resourceClaims", "nodeSelector", "serviceAccount",
      "serviceAccountName", "automountServiceAccountToken", "enableServiceLinks", "preemptionPolicy", "priority", "priorityClassName",
      "terminationGracePeriodSeconds", "activeDeadlineSeconds", "ephemeralContainers", "hostname", "subdomain", "os", "runtimeClassName",
      "setHostnameAsFQDN", "shareProcessNamespace"})
  private interface LeanPodSpec {
  }

  @JsonIgnoreProperties({"conditions", "containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses", "hostIP", "hostIPs",
      "podIP", "podIPs", "startTime", "qosClass", "message", "reason", "nominatedNodeName", "resourceClaimStatuses", "resize",
      "observedGeneration"})
  private interface LeanPodStatus {
  }

  @JsonIgnoreProperties({"env", "envFrom", "volumeMounts", "volumeDevices", "livenessProbe", "readinessProbe", "startupProbe",
      "lifecycle", "command", "args", "workingDir", "terminationMessagePath", "terminationMessagePolicy", "image", "imagePullPolicy",
      "ports", "securityContext", "resizePolicy", "stdin", "stdinOnce", "tty"})
  private interface LeanContainer {
  }

  @JsonIgnoreProperties({"images", "conditions", "addresses", "daemonEndpoints", "nodeInfo", "volumesAttached", "volumesInUse", "config",
      "features", "runtimeHandlers"})
  private interface LeanNodeStatus {
  }

  static KubernetesSerialization create() {
    ObjectMapper mapper = new ObjectMapper()
        .addMixIn(ObjectMeta.class, Metadata.class)
        .addMixIn(PodStatus.class, PodStatusFields.class)
        .addMixIn(Container.class, ContainerFields.class)
        .addMixIn(NodeStatus.class, NodeStatusFields.class);
    return new KubernetesSerialization(mapper, true);
  }

  static KubernetesSerialization derivedStateOnly() {
    ObjectMapper mapper = new ObjectMapper()
        .addMixIn(ObjectMeta.class, LeanMetadata.class)
        .addMixIn(PodSpec.class, LeanPodSpec.class)
        .addMixIn(PodStatus.class, LeanPodStatus.class)
        .addMixIn(Container.class, LeanContainer.class)
        .addMixIn(NodeStatus.class, LeanNodeStatus.class);
    return new KubernetesSerialization(mapper, true);
  }
}
