package dev.dovetail.runtime;

/** The version a component was built as (from its jar manifest), or "dev" when run from classes. */
public final class Version {
  private Version() {
  }

  public static String of(Class<?> main) {
    String v = main.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }
}
