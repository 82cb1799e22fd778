package dev.dovetail.extender.decision;

import java.util.Locale;

/** What happened to a request, as a metric label. */
public enum Outcome {
  /** The pod's workload is governed by a rule and nodes of an allowed capacity type fit. */
  GOVERNED,
  /** Governed, but no offered node has an allowed capacity type: the pod waits for new capacity. */
  NO_FITTING_NODE,
  /** DaemonSet, mirror or system pod, or a pod that selects its capacity type itself. */
  EXEMPT,
  /** No rule covers the pod's namespace. */
  NO_RULE,
  /** The caches have not listed the cluster yet; the extender passes every node (no opinion). */
  NOT_SYNCED,
  /** The request was malformed (answered 400). */
  BAD_REQUEST;

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
