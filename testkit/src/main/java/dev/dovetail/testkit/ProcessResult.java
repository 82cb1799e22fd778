package dev.dovetail.testkit;

/** Exit code and output of a finished command. */
public record ProcessResult(int exitCode, String stdout, String stderr) {
  public boolean ok() {
    return exitCode == 0;
  }

  /** Throws with the command's output when it failed. */
  public ProcessResult orThrow(String what) {
    if (!ok()) {
      throw new IllegalStateException(what + " failed with exit code " + exitCode + ":\n" + stderr + stdout);
    }
    return this;
  }
}
