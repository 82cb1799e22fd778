package dev.dovetail.api.drift;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.karpenter.v1.NodePool;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/**
 * The drift hashes Karpenter writes on NodePools, NodeClaims and EC2NodeClasses: a NodeClaim whose
 * recorded hash differs from its pool's (or node class's) current one has drifted. Hashes cover what
 * changes a node (the pool's template without its requirements, which drift separately; the node
 * class without its selector terms, which drift by what they resolve to) and are decimal strings of
 * 64 bits, as Karpenter's are.
 */
public final class Hashes {
  public static final String NODEPOOL_HASH = "karpenter.sh/nodepool-hash";
  public static final String NODEPOOL_HASH_VERSION = "karpenter.sh/nodepool-hash-version";
  public static final String NODEPOOL_HASH_VERSION_VALUE = "v3";
  public static final String NODECLASS_HASH = "karpenter.k8s.aws/ec2nodeclass-hash";
  public static final String NODECLASS_HASH_VERSION = "karpenter.k8s.aws/ec2nodeclass-hash-version";
  public static final String NODECLASS_HASH_VERSION_VALUE = "v6";

  private static final ObjectMapper CANONICAL = new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

  private Hashes() {
  }

  public static String nodePool(NodePool pool) {
    ObjectNode template = CANONICAL.valueToTree(pool.getSpec().template());
    if (template.get("spec") instanceof ObjectNode spec) {
      spec.remove("requirements");
    }
    return hash(template);
  }

  public static String nodeClass(EC2NodeClass nodeClass) {
    ObjectNode spec = CANONICAL.valueToTree(nodeClass.getSpec());
    spec.remove(List.of("subnetSelectorTerms", "securityGroupSelectorTerms", "amiSelectorTerms", "capacityReservationSelectorTerms"));
    return hash(spec);
  }

  /** A stable hash of any value's JSON form (field and map order do not matter, nulls are left out). */
  public static String of(Object value) {
    return hash(CANONICAL.valueToTree(value));
  }

  static String hash(JsonNode node) {
    try {
      byte[] canonical = CANONICAL.writeValueAsBytes(sorted(node));
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(canonical);
      long v = 0;
      for (int i = 0; i < 8; i++) {
        v = (v << 8) | (digest[i] & 0xff);
      }
      return Long.toUnsignedString(v);
    } catch (NoSuchAlgorithmException | JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Object fields in key order at every level (ORDER_MAP_ENTRIES_BY_KEYS sorts maps, not tree nodes). */
  private static JsonNode sorted(JsonNode node) {
    if (node instanceof ObjectNode o) {
      ObjectNode out = CANONICAL.createObjectNode();
      List<String> names = new ArrayList<>();
      o.fieldNames().forEachRemaining(names::add);
      names.sort(null);
      for (String n : names) {
        if (!o.get(n).isNull()) {
          out.set(n, sorted(o.get(n)));
        }
      }
      return out;
    }
    if (node.isArray()) {
      var out = CANONICAL.createArrayNode();
      node.forEach(e -> out.add(sorted(e)));
      return out;
    }
    return node;
  }
}
