package dev.dovetail.runtime;

import picocli.CommandLine.IVersionProvider;

/** Prints the component version for {@code --version}. */
public final class VersionProvider implements IVersionProvider {
  @Override
  public String[] getVersion() {
    return new String[] {"${COMMAND-FULL-NAME} " + Version.of(VersionProvider.class) + " (Java " + Runtime.version() + ")"};
  }
}
