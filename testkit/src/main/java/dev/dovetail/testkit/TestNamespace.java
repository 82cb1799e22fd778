package dev.dovetail.testkit;

/** The namespace created for one test; also a source of unique names for cluster-scoped objects. */
public record TestNamespace(String name) {
  /** A cluster-scoped object name unique to this test: {@code <base>-<namespace suffix>}. */
  public String unique(String base) {
    String suffix = name.substring(name.lastIndexOf('-') + 1);
    return base + "-" + suffix;
  }

  @Override
  public String toString() {
    return name;
  }
}
