package dev.dovetail.provisioner.cloud.aws;

import dev.dovetail.api.aws.v1.AmiSelectorTerm;
import dev.dovetail.api.aws.v1.SecurityGroupSelectorTerm;
import dev.dovetail.api.aws.v1.SubnetSelectorTerm;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import software.amazon.awssdk.services.ec2.model.Filter;

/**
 * EC2NodeClass selector terms as EC2 describe filters. Terms are alternatives (one describe call each,
 * results united); the parts of one term must all hold (filters of one call are ANDed). A tag value of
 * {@code *} means "has the tag", as in Karpenter.
 */
final class Selectors {
  private Selectors() {
  }

  static List<Filter> subnet(SubnetSelectorTerm term) {
    List<Filter> filters = new ArrayList<>();
    if (term.id() != null) {
      filters.add(filter("subnet-id", term.id()));
    }
    filters.addAll(tags(term.tags()));
    return filters;
  }

  static List<Filter> securityGroup(SecurityGroupSelectorTerm term) {
    List<Filter> filters = new ArrayList<>();
    if (term.id() != null) {
      filters.add(filter("group-id", term.id()));
    }
    if (term.name() != null) {
      filters.add(filter("group-name", term.name()));
    }
    filters.addAll(tags(term.tags()));
    return filters;
  }

  /** DescribeImages filters for a term without an alias or SSM parameter (those resolve through SSM first). */
  static List<Filter> image(AmiSelectorTerm term) {
    List<Filter> filters = new ArrayList<>();
    if (term.id() != null) {
      filters.add(filter("image-id", term.id()));
    }
    if (term.name() != null) {
      filters.add(filter("name", term.name()));
    }
    filters.addAll(tags(term.tags()));
    filters.add(filter("state", "available"));
    return filters;
  }

  /**
   * Owners to search for a name or tag term: the term's owner (an account number or an alias such as
   * {@code amazon}), else this account's and Amazon's images, as Karpenter does.
   */
  static List<String> owners(AmiSelectorTerm term) {
    if (term.id() != null) {
      return List.of();
    }
    return term.owner() != null ? List.of(term.owner()) : List.of("self", "amazon");
  }

  private static List<Filter> tags(Map<String, String> tags) {
    if (tags == null) {
      return List.of();
    }
    List<Filter> filters = new ArrayList<>();
    new TreeMap<>(tags).forEach((key, value) -> filters.add("*".equals(value) ? filter("tag-key", key) : filter("tag:" + key, value)));
    return filters;
  }

  static Filter filter(String name, String... values) {
    return Filter.builder().name(name).values(values).build();
  }

  /**
   * The SSM public parameter an alias names, per architecture: {@code al2023@latest} →
   * {@code /aws/service/eks/optimized-ami/<k8s>/amazon-linux-2023/x86_64/standard/recommended/image_id}.
   * Empty for an unknown family.
   */
  static Optional<String> aliasParameter(String alias, String kubernetesVersion, String arch) {
    int at = alias.indexOf('@');
    String family = (at < 0 ? alias : alias.substring(0, at)).toLowerCase(Locale.ROOT);
    String version = at < 0 ? "latest" : alias.substring(at + 1);
    boolean latest = "latest".equals(version);
    String awsArch = "arm64".equals(arch) ? "arm64" : "x86_64";
    return switch (family) {
      case "al2023" -> Optional.of("/aws/service/eks/optimized-ami/" + kubernetesVersion + "/amazon-linux-2023/" + awsArch + "/standard/"
          + (latest ? "recommended" : "amazon-eks-node-al2023-" + awsArch + "-standard-" + kubernetesVersion + "-" + version) + "/image_id");
      case "al2" -> Optional.of("/aws/service/eks/optimized-ami/" + kubernetesVersion + "/amazon-linux-2" + ("arm64".equals(arch) ? "-arm64" : "")
          + "/" + (latest ? "recommended" : "amazon-eks-" + ("arm64".equals(arch) ? "arm64-" : "") + "node-" + kubernetesVersion + "-" + version)
          + "/image_id");
      case "bottlerocket" -> Optional.of("/aws/service/bottlerocket/aws-k8s-" + kubernetesVersion + "/" + awsArch + "/"
          + (latest ? "latest" : version.startsWith("v") ? version.substring(1) : version) + "/image_id");
      default -> Optional.empty();
    };
  }
}
