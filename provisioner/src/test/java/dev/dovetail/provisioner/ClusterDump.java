package dev.dovetail.provisioner;

import dev.dovetail.api.karpenter.v1.NodeClaim;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.stream.Collectors;

/** A compact picture of nodes, NodeClaims and a namespace's pods, for failure messages. */
final class ClusterDump {
  private ClusterDump() {
  }

  static String of(KubernetesClient client, String namespace) {
    StringBuilder out = new StringBuilder("\n--- nodes\n");
    for (Node n : client.nodes().list().getItems()) {
      out.append(n.getMetadata().getName()).append(" taints=")
          .append(n.getSpec().getTaints() == null ? "[]" : n.getSpec().getTaints().stream().map(t -> t.getKey() + ":" + t.getEffect()).toList())
          .append(" conditions=").append(n.getStatus() == null || n.getStatus().getConditions() == null ? "[]"
              : n.getStatus().getConditions().stream().map(c -> c.getType() + "=" + c.getStatus()).toList())
          .append(" labels=").append(n.getMetadata().getLabels()).append('\n');
    }
    out.append("--- nodeclaims\n");
    for (NodeClaim c : client.resources(NodeClaim.class).list().getItems()) {
      out.append(c.getMetadata().getName()).append(" deleting=").append(c.getMetadata().getDeletionTimestamp() != null)
          .append(" node=").append(c.getStatus() == null ? null : c.getStatus().nodeName())
          .append(" conditions=").append(c.getStatus() == null || c.getStatus().conditions() == null ? "[]"
              : c.getStatus().conditions().stream().map(x -> x.type() + "=" + x.status() + "(" + x.message() + ")").toList()).append('\n');
    }
    out.append("--- pods in ").append(namespace).append('\n');
    out.append(client.pods().inNamespace(namespace).list().getItems().stream().map(ClusterDump::pod).collect(Collectors.joining("\n")));
    return out.toString();
  }

  private static String pod(Pod p) {
    String scheduled = p.getStatus().getConditions() == null ? "" : p.getStatus().getConditions().stream()
        .filter(c -> c.getType().equals("PodScheduled")).map(c -> c.getStatus() + " " + c.getMessage()).findFirst().orElse("");
    return p.getMetadata().getName() + " " + p.getStatus().getPhase() + " node=" + p.getSpec().getNodeName() + " scheduled=" + scheduled;
  }
}
