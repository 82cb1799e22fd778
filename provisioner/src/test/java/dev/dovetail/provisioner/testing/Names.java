package dev.dovetail.provisioner.testing;

import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/** Names of test objects: unique per call, and the label every object the builders make carries. */
public final class Names {
  /**
   * On every object the builders make (and, through the NodePool and NodeClaim templates, on what the
   * provisioner makes from them): {@link Sweep} removes what carries it after each test.
   */
  public static final String TEST_LABEL = "dovetail.dev/api-test";

  private Names() {
  }

  /** {@code <prefix>-<5 hex digits>}. */
  public static String unique(String prefix) {
    return prefix + "-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 5);
  }
}
