package dev.dovetail.interruption;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.runtime.Launcher;
import org.junit.jupiter.api.Test;

class InterruptListenerMainTest {
  @Test
  void refusesToStartWithoutItsNodeOrWithABadEndpoint() {
    assertThat(Launcher.run(new InterruptListenerMain(), new String[] {"--node-name", ""})).isEqualTo(2);
    assertThat(Launcher.run(new InterruptListenerMain(), new String[] {"--node-name", "n1", "--imds-endpoint", "ftp://imds"}))
        .isEqualTo(2);
  }
}
