package dev.dovetail.provisioner.nodeclaim;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeClaimStatus;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.Map;

/** The writes the NodeClaim controllers make; cached objects are never modified in place. */
final class Writer {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final KubernetesClient client;

  Writer(KubernetesClient client) {
    this.client = client;
  }

  /** Replaces the status, with the cached resourceVersion: a conflict fails the reconcile, which retries. */
  void writeStatus(NodeClaim claim, NodeClaimStatus status) {
    NodeClaim copy = new NodeClaim();
    copy.setMetadata(new ObjectMetaBuilder(claim.getMetadata()).build());
    copy.setSpec(claim.getSpec());
    copy.setStatus(status);
    try {
      client.resources(NodeClaim.class).resource(copy).updateStatus();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
    }
  }

  /** A JSON merge patch of metadata (labels and annotations merge key by key; lists are replaced). */
  <T extends HasMetadata> void patchMetadata(Class<T> type, String name, Map<String, Object> metadata) {
    try {
      client.resources(type).withName(name).patch(PatchContext.of(PatchType.JSON_MERGE), JSON.writeValueAsString(Map.of("metadata", metadata)));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
