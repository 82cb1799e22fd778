package dev.dovetail.provisioner.cloud.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.provisioner.cloud.sim.SimFaults.OfferingPattern;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SimFaultsTest {
  @Test
  void patternsMatchWithWildcards() {
    SimFaults faults = new SimFaults(SimFaults.patterns("*/us-east-1a/spot, m5.large/*/*\nc5.xlarge/us-east-1b/on-demand"), 0,
        Duration.ZERO, Duration.ZERO);
    assertThat(faults.insufficientCapacity()).hasSize(3);
    assertThat(faults.noCapacity("r6i.large", "us-east-1a", CapacityType.SPOT)).isTrue();
    assertThat(faults.noCapacity("r6i.large", "us-east-1a", CapacityType.ON_DEMAND)).isFalse();
    assertThat(faults.noCapacity("m5.large", "us-east-1c", CapacityType.ON_DEMAND)).isTrue();
    assertThat(faults.noCapacity("c5.xlarge", "us-east-1b", CapacityType.ON_DEMAND)).isTrue();
    assertThat(faults.noCapacity("c5.xlarge", "us-east-1b", CapacityType.SPOT)).isFalse();
    assertThat(faults.noCapacity("c5.xlarge", "us-east-1c", CapacityType.ON_DEMAND)).isFalse();
  }

  @Test
  void badPatternsSayWhatIsExpected() {
    assertThatThrownBy(() -> OfferingPattern.parse("m5.large/spot")).hasMessageContaining("<instance-type>/<zone>/<capacity-type>")
        .hasMessageContaining("m5.large/spot");
    assertThatThrownBy(() -> OfferingPattern.parse("m5.large//spot")).hasMessageContaining("<instance-type>/<zone>/<capacity-type>");
    assertThatThrownBy(() -> OfferingPattern.parse("*/*/preemptible")).hasMessageContaining("unknown capacity type 'preemptible'");
    assertThat(SimFaults.patterns(null)).isEmpty();
    assertThat(SimFaults.patterns(" , \n")).isEmpty();
  }

  @Test
  void aConfigMapOverridesOnlyTheKeysItHas() {
    SimFaults defaults = new SimFaults(List.of(OfferingPattern.parse("*/*/spot")), 0.1, Duration.ofMillis(5), Duration.ofSeconds(3));
    SimFaults changed = SimFaults.fromConfigMap(Map.of("bootDelay", "250ms", "launchFailureRate", " 0.5 "), defaults);
    assertThat(changed.bootDelay()).isEqualTo(Duration.ofMillis(250));
    assertThat(changed.launchFailureRate()).isEqualTo(0.5);
    assertThat(changed.launchLatency()).isEqualTo(Duration.ofMillis(5));
    assertThat(changed.insufficientCapacity()).isEqualTo(defaults.insufficientCapacity());
    assertThat(SimFaults.fromConfigMap(Map.of("insufficientCapacity", ""), defaults).insufficientCapacity()).isEmpty();
    assertThat(SimFaults.fromConfigMap(null, defaults)).isSameAs(defaults);
  }

  @Test
  void impossibleSettingsAreRefused() {
    assertThatThrownBy(() -> new SimFaults(List.of(), 1.5, Duration.ZERO, Duration.ZERO)).hasMessageContaining("between 0 and 1");
    assertThatThrownBy(() -> new SimFaults(List.of(), 0, Duration.ofSeconds(-1), Duration.ZERO)).hasMessageContaining("must not be negative");
    assertThatThrownBy(() -> SimFaults.fromConfigMap(Map.of("launchFailureRate", "2"), SimFaults.NONE)).hasMessageContaining("between 0 and 1");
  }
}
