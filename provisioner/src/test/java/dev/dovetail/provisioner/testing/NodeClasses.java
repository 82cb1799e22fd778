package dev.dovetail.provisioner.testing;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * EC2NodeClasses: {@link #nodeClass} makes one like the sample's (a role, the AL2023 alias, subnets and
 * security groups selected by a discovery tag) and applies the overrides in order (the last one to set
 * a field wins).
 */
public final class NodeClasses {
  private NodeClasses() {
  }

  /** A node class under construction; every setter replaces what was there (maps: the one key). */
  public static final class Builder {
    private String name = Names.unique("class");
    private String role = "KarpenterNodeRole-api-test";
    private List<Map<String, Object>> subnetSelectorTerms = List.of(Map.of("tags", Map.of("karpenter.sh/discovery", "api-test")));
    private List<Map<String, Object>> securityGroupSelectorTerms = List.of(Map.of("tags", Map.of("karpenter.sh/discovery", "api-test")));
    private List<Map<String, Object>> amiSelectorTerms = List.of(Map.of("alias", "al2023@latest"));
    private final Map<String, String> tags = new LinkedHashMap<>();
    private String userData;

    public Builder name(String value) {
      this.name = value;
      return this;
    }

    public Builder role(String value) {
      this.role = value;
      return this;
    }

    /** Subnets selected by ID only. */
    public Builder subnetIds(String... ids) {
      this.subnetSelectorTerms = List.of(ids).stream().<Map<String, Object>>map(id -> Map.of("id", id)).toList();
      return this;
    }

    /** Subnets selected by one tag. */
    public Builder subnetTag(String key, String value) {
      this.subnetSelectorTerms = List.of(Map.of("tags", Map.of(key, value)));
      return this;
    }

    /** A tag every instance, volume and launch template of the class gets. */
    public Builder tag(String key, String value) {
      tags.put(key, value);
      return this;
    }

    public Builder userData(String value) {
      this.userData = value;
      return this;
    }

    public EC2NodeClass build() {
      Map<String, Object> spec = new LinkedHashMap<>();
      spec.put("role", role);
      spec.put("subnetSelectorTerms", subnetSelectorTerms);
      spec.put("securityGroupSelectorTerms", securityGroupSelectorTerms);
      spec.put("amiSelectorTerms", amiSelectorTerms);
      if (!tags.isEmpty()) {
        spec.put("tags", tags);
      }
      if (userData != null) {
        spec.put("userData", userData);
      }
      Map<String, Object> object = Map.of("apiVersion", "karpenter.k8s.aws/v1", "kind", "EC2NodeClass",
          "metadata", Map.of("name", name, "labels", Map.of(Names.TEST_LABEL, "true")), "spec", spec);
      return Serialization.unmarshal(Serialization.asJson(object), EC2NodeClass.class);
    }
  }

  @SafeVarargs
  public static EC2NodeClass nodeClass(UnaryOperator<Builder>... overrides) {
    Builder b = new Builder();
    for (UnaryOperator<Builder> o : overrides) {
      b = o.apply(b);
    }
    return b.build();
  }
}
