package dev.dovetail.provisioner.kube;

import io.fabric8.kubernetes.client.KubernetesClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The API server's Kubernetes version, as the AMI aliases need it. */
public final class KubernetesVersion {
  private static final Logger LOG = LoggerFactory.getLogger(KubernetesVersion.class);
  /** The newest minor version we know, used when the API server does not say. */
  static final String FALLBACK = "1.34";

  private KubernetesVersion() {
  }

  /** The minor version ({@code 1.34}); the newest we know if it cannot be read. */
  public static String minor(KubernetesClient client) {
    try {
      var v = client.getKubernetesVersion();
      return v.getMajor() + "." + v.getMinor().replaceAll("[^0-9]", "");
    } catch (RuntimeException e) {
      LOG.warn("cannot read the Kubernetes version ({}); AMI aliases resolve for {}", e.toString(), FALLBACK);
      return FALLBACK;
    }
  }
}
