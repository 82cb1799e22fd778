package dev.dovetail.api.karpenter.v1;

/** Resource quantities as the Kubernetes API writes them. */
public final class Quantities {
  private Quantities() {
  }

  /** A Kubernetes quantity: a signed decimal with an optional binary, decimal or exponent suffix. */
  public static final String PATTERN =
      "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$";
}
