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
public final class Writer {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final KubernetesClient client;

  public Writer(KubernetesClient client) {
    this.client = client;
  }

  /**
   * Writes a status that only this controller computes (NodePool, EC2NodeClass) as a merge patch of
   * the status subresource, without a resourceVersion: metadata changes cannot make it conflict.
   */
  public <T extends HasMetadata> void patchStatus(Class<T> type, String name, Object status) {
    try {
      client.resources(type).withName(name).subresource("status")
          .patch(PatchContext.of(PatchType.JSON_MERGE), JSON.writeValueAsString(Map.of("status", status)));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
    }
  }

  /** Replaces the status, with the cached resourceVersion: a conflict fails the reconcile, which retries. */
  public void writeStatus(NodeClaim claim, NodeClaimStatus status) {
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
  public <T extends HasMetadata> T patchMetadata(Class<T> type, String name, Map<String, Object> metadata) {
    return mergePatch(type, name, Map.of("metadata", metadata));
  }

  /**
   * A JSON merge patch written from plain maps, so an empty list is sent as {@code []} and clears the
   * field (model objects leave empty lists out). With {@code metadata.resourceVersion} in the body the
   * patch applies only to that version.
   */
  public <T extends HasMetadata> T mergePatch(Class<T> type, String name, Map<String, Object> body) {
    try {
      return client.resources(type).withName(name).patch(PatchContext.of(PatchType.JSON_MERGE), JSON.writeValueAsString(body));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
