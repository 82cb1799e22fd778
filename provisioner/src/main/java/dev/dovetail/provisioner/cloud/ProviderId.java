package dev.dovetail.provisioner.cloud;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An EC2 instance's provider ID as Karpenter and the AWS cloud controller write it on Nodes and
 * NodeClaims: {@code aws:///<zone>/<instance id>}. Parsed once, instead of cut out of strings at each use.
 */
public record ProviderId(String zone, String instanceId) {
  private static final Pattern FORM = Pattern.compile("aws:///([^/]*)/([^/]+)");

  public ProviderId {
    if (instanceId == null || instanceId.isEmpty() || instanceId.contains("/") || zone == null || zone.contains("/")) {
      throw new IllegalArgumentException("not an instance ID and zone: " + zone + ", " + instanceId);
    }
  }

  /** The provider ID in Karpenter's form, if {@code value} is one. */
  public static Optional<ProviderId> parse(String value) {
    Matcher m = value == null ? null : FORM.matcher(value);
    return m != null && m.matches() ? Optional.of(new ProviderId(m.group(1), m.group(2))) : Optional.empty();
  }

  /** The instance ID a provider ID names; the value itself when it is not in Karpenter's form (a bare instance ID). */
  public static String instanceIdOf(String value) {
    return parse(value).map(ProviderId::instanceId).orElse(value);
  }

  @Override
  public String toString() {
    return "aws:///" + zone + "/" + instanceId;
  }
}
