package dev.dovetail.provisioner.kube;

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

/**
 * The provisioner's writes to the API server, in one place: status and metadata patches, pod
 * nominations, deletions. Cached objects are never modified in place; a write that should apply only to
 * the version read carries its {@code resourceVersion}. Calls block: run them on a controller's workers,
 * never on an event loop or an SDK completion thread.
 */
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

  /**
   * Replaces the status, with the cached resourceVersion: a conflict fails the reconcile, which retries.
   * Returns the claim as written (the claim given, if it is gone).
   */
  public NodeClaim writeStatus(NodeClaim claim, NodeClaimStatus status) {
    NodeClaim copy = new NodeClaim();
    copy.setMetadata(new ObjectMetaBuilder(claim.getMetadata()).build());
    copy.setSpec(claim.getSpec());
    copy.setStatus(status);
    try {
      return client.resources(NodeClaim.class).resource(copy).updateStatus();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
      return claim;
    }
  }

  /** Deletes a cluster-scoped object; true if it was there. */
  public <T extends HasMetadata> boolean delete(Class<T> type, String name) {
    try {
      return !client.resources(type).withName(name).delete().isEmpty();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
      return false;
    }
  }

  private static String json(Object body) {
    try {
      return JSON.writeValueAsString(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
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
