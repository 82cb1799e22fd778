package dev.dovetail.interruption.kube;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A pod as dev.dovetail.api.disruption.Drain reads it, from the API server's JSON: the fabric8 model
 * with only the fields the drain rules look at (name, namespace, annotations, controller owners,
 * deletion, priority class, tolerations, phase). Copied field by field, not bound: binding a Pod loads the
 * whole pod model and its deserializers, several MiB of metaspace for seven fields.
 */
public final class DrainView {
  private DrainView() {
  }

  public static Pod pod(JsonNode json) {
    JsonNode m = json.path("metadata");
    ObjectMeta meta = new ObjectMeta();
    meta.setName(text(m, "name"));
    meta.setNamespace(text(m, "namespace"));
    meta.setUid(text(m, "uid"));
    meta.setDeletionTimestamp(text(m, "deletionTimestamp"));
    if (m.path("annotations").isObject()) {
      Map<String, String> annotations = new LinkedHashMap<>();
      m.path("annotations").fields().forEachRemaining(e -> annotations.put(e.getKey(), e.getValue().asText()));
      meta.setAnnotations(annotations);
    }
    if (m.path("ownerReferences").isArray()) {
      List<OwnerReference> owners = new ArrayList<>();
      for (JsonNode o : m.path("ownerReferences")) {
        OwnerReference r = new OwnerReference();
        r.setApiVersion(text(o, "apiVersion"));
        r.setKind(text(o, "kind"));
        r.setName(text(o, "name"));
        r.setUid(text(o, "uid"));
        r.setController(o.has("controller") ? o.path("controller").asBoolean() : null);
        owners.add(r);
      }
      meta.setOwnerReferences(owners);
    }
    Pod pod = new Pod();
    pod.setMetadata(meta);
    JsonNode s = json.path("spec");
    PodSpec spec = new PodSpec();
    spec.setNodeName(text(s, "nodeName"));
    spec.setPriorityClassName(text(s, "priorityClassName"));
    if (s.path("tolerations").isArray()) {
      List<Toleration> tolerations = new ArrayList<>();
      for (JsonNode t : s.path("tolerations")) {
        Toleration toleration = new Toleration();
        toleration.setKey(text(t, "key"));
        toleration.setOperator(text(t, "operator"));
        toleration.setValue(text(t, "value"));
        toleration.setEffect(text(t, "effect"));
        toleration.setTolerationSeconds(t.path("tolerationSeconds").isNumber() ? t.path("tolerationSeconds").asLong() : null);
        tolerations.add(toleration);
      }
      spec.setTolerations(tolerations);
    }
    pod.setSpec(spec);
    PodStatus status = new PodStatus();
    status.setPhase(text(json.path("status"), "phase"));
    pod.setStatus(status);
    return pod;
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }
}
