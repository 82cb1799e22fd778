package dev.dovetail.extender;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.runtime.Launcher;
import org.junit.jupiter.api.Test;

class ExtenderMainTest {
  @Test
  void badOptionsExitWithUsageError() {
    assertThat(Launcher.run(new ExtenderMain(), new String[] {"--port", "eighty"})).isEqualTo(2);
    assertThat(Launcher.run(new ExtenderMain(), new String[] {"--no-such-option"})).isEqualTo(2);
    assertThat(Launcher.run(new ExtenderMain(), new String[] {"--log-format", "xml"})).isEqualTo(2);
  }

  @Test
  void helpAndVersionExitCleanly() {
    assertThat(Launcher.run(new ExtenderMain(), new String[] {"--help"})).isZero();
    assertThat(Launcher.run(new ExtenderMain(), new String[] {"--version"})).isZero();
  }
}
