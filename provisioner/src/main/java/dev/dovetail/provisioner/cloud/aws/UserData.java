package dev.dovetail.provisioner.cloud.aws;

import dev.dovetail.api.aws.v1.EC2NodeClassSpec.AmiFamily;
import dev.dovetail.api.aws.v1.KubeletConfiguration;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The bootstrap user data of a launch template, by AMI family: for AL2023 a nodeadm {@code NodeConfig}
 * in a MIME multipart document, followed by the user's own part(s); for Bottlerocket TOML settings with
 * the user's TOML appended; for {@code Custom} the user's data unchanged. The node registers with the
 * NodeClaim's labels and taints and {@code karpenter.sh/unregistered:NoExecute}, which the provisioner
 * removes once it has synced the node.
 */
public final class UserData {
  static final String BOUNDARY = "//";

  /** What the node needs to join the cluster. */
  public record Cluster(String name, String endpoint, String caBundle, String serviceCidr) {
  }

  private UserData() {
  }

  static String render(AmiFamily family, Cluster cluster, KubeletConfiguration kubelet, Map<String, String> labels, List<String> taints,
      String userData) {
    return switch (family == null ? AmiFamily.Custom : family) {
      case AL2023 -> al2023(cluster, kubelet, labels, taints, userData);
      case Bottlerocket -> bottlerocket(cluster, kubelet, labels, taints, userData);
      default -> userData == null ? "" : userData;
    };
  }

  static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  private static String al2023(Cluster cluster, KubeletConfiguration kubelet, Map<String, String> labels, List<String> taints, String userData) {
    StringBuilder config = new StringBuilder()
        .append("apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  cluster:\n")
        .append("    name: ").append(quote(cluster.name())).append('\n')
        .append("    apiServerEndpoint: ").append(quote(cluster.endpoint())).append('\n')
        .append("    certificateAuthority: ").append(quote(cluster.caBundle())).append('\n')
        .append("    cidr: ").append(quote(cluster.serviceCidr())).append('\n')
        .append("  kubelet:\n    config:\n");
    kubeletConfig(kubelet).forEach((k, v) -> config.append("      ").append(k).append(": ").append(v).append('\n'));
    config.append("    flags:\n");
    config.append("      - ").append(quote("--node-labels=" + joinLabels(labels))).append('\n');
    config.append("      - ").append(quote("--register-with-taints=" + String.join(",", taints))).append('\n');
    StringBuilder mime = new StringBuilder()
        .append("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"").append(BOUNDARY).append("\"\n\n")
        .append("--").append(BOUNDARY).append("\nContent-Type: application/node.eks.aws\n\n").append(config).append('\n');
    for (String part : userParts(userData)) {
      mime.append("--").append(BOUNDARY).append('\n').append(part).append('\n');
    }
    return mime.append("--").append(BOUNDARY).append("--\n").toString();
  }

  /**
   * The user's data as MIME parts: the parts of a multipart document as they are, anything else as one
   * part (a shell script if it starts with {@code #!}, else a nodeadm config).
   */
  static List<String> userParts(String userData) {
    if (userData == null || userData.isBlank()) {
      return List.of();
    }
    String trimmed = userData.strip();
    if (trimmed.startsWith("MIME-Version") || trimmed.startsWith("Content-Type: multipart")) {
      String boundary = boundaryOf(trimmed);
      if (boundary != null) {
        List<String> parts = new ArrayList<>();
        for (String chunk : trimmed.split("(?m)^--" + Pattern.quote(boundary) + "(--)?\\s*$")) {
          String part = chunk.strip();
          if (!part.isEmpty() && !part.startsWith("MIME-Version") && !part.startsWith("Content-Type: multipart")) {
            parts.add(part + "\n");
          }
        }
        return parts;
      }
    }
    String type = trimmed.startsWith("#!") ? "text/x-shellscript; charset=\"us-ascii\"" : "application/node.eks.aws";
    return List.of("Content-Type: " + type + "\n\n" + trimmed + "\n");
  }

  private static String boundaryOf(String mime) {
    Matcher m = Pattern.compile("boundary=\"?([^\"\\s;]+)\"?").matcher(mime);
    return m.find() ? m.group(1) : null;
  }

  private static String bottlerocket(Cluster cluster, KubeletConfiguration kubelet, Map<String, String> labels, List<String> taints,
      String userData) {
    StringBuilder toml = new StringBuilder()
        .append("[settings.kubernetes]\n")
        .append("cluster-name = ").append(quote(cluster.name())).append('\n')
        .append("api-server = ").append(quote(cluster.endpoint())).append('\n')
        .append("cluster-certificate = ").append(quote(cluster.caBundle())).append('\n');
    if (kubelet != null && kubelet.getMaxPods() != null) {
      toml.append("max-pods = ").append(kubelet.getMaxPods()).append('\n');
    }
    toml.append("\n[settings.kubernetes.node-labels]\n");
    new TreeMap<>(labels).forEach((k, v) -> toml.append(quote(k)).append(" = ").append(quote(v)).append('\n'));
    toml.append("\n[settings.kubernetes.node-taints]\n");
    Map<String, List<String>> byKey = new TreeMap<>();
    for (String t : taints) {
      int eq = t.indexOf('=');
      int colon = t.lastIndexOf(':');
      String key = eq > 0 ? t.substring(0, eq) : t.substring(0, colon);
      byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(eq > 0 ? t.substring(eq + 1) : t.substring(colon));
    }
    byKey.forEach((k, values) -> toml.append(quote(k)).append(" = [").append(String.join(", ", values.stream().map(UserData::quote).toList()))
        .append("]\n"));
    if (userData != null && !userData.isBlank()) {
      toml.append('\n').append(userData.strip()).append('\n');
    }
    return toml.toString();
  }

  private static Map<String, String> kubeletConfig(KubeletConfiguration kubelet) {
    Map<String, String> out = new TreeMap<>();
    if (kubelet == null) {
      return out;
    }
    if (kubelet.getMaxPods() != null) {
      out.put("maxPods", kubelet.getMaxPods().toString());
    }
    if (kubelet.getClusterDNS() != null && !kubelet.getClusterDNS().isEmpty()) {
      out.put("clusterDNS", "[" + String.join(", ", kubelet.getClusterDNS().stream().map(UserData::quote).toList()) + "]");
    }
    if (kubelet.getPodsPerCore() != null) {
      out.put("podsPerCore", kubelet.getPodsPerCore().toString());
    }
    putMap(out, "systemReserved", kubelet.getSystemReserved());
    putMap(out, "kubeReserved", kubelet.getKubeReserved());
    putMap(out, "evictionHard", kubelet.getEvictionHard());
    putMap(out, "evictionSoft", kubelet.getEvictionSoft());
    putMap(out, "evictionSoftGracePeriod", kubelet.getEvictionSoftGracePeriod());
    return out;
  }

  private static void putMap(Map<String, String> out, String key, Map<String, String> values) {
    if (values != null && !values.isEmpty()) {
      out.put(key, "{" + String.join(", ", new TreeMap<>(values).entrySet().stream().map(e -> quote(e.getKey()) + ": " + quote(e.getValue())).toList())
          + "}");
    }
  }

  private static String joinLabels(Map<String, String> labels) {
    return String.join(",", new TreeMap<>(labels).entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList());
  }

  /** A double-quoted string, valid in YAML and TOML alike. */
  static String quote(String value) {
    String v = value == null ? "" : value;
    return "\"" + v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
  }
}
