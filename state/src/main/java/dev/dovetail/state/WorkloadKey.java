package dev.dovetail.state;

/** Identifies a workload: the top controller of its pods (Deployment, StatefulSet, Job, ...) or a bare pod. */
public record WorkloadKey(String namespace, String kind, String name) {
  @Override
  public String toString() {
    return kind + " " + namespace + "/" + name;
  }
}
