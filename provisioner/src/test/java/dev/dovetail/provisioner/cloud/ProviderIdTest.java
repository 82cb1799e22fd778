package dev.dovetail.provisioner.cloud;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ProviderIdTest {
  @Test
  void karpentersFormParsesAndPrintsBack() {
    ProviderId id = ProviderId.parse("aws:///us-east-1a/i-0123456789abcdef0").orElseThrow();
    assertThat(id.zone()).isEqualTo("us-east-1a");
    assertThat(id.instanceId()).isEqualTo("i-0123456789abcdef0");
    assertThat(id).hasToString("aws:///us-east-1a/i-0123456789abcdef0");
  }

  @Test
  void otherFormsAreNotProviderIds() {
    assertThat(ProviderId.parse("kwok://node-1")).isEmpty();
    assertThat(ProviderId.parse("aws:///us-east-1a/")).isEmpty();
    assertThat(ProviderId.parse("aws:///us-east-1a/i-1/extra")).isEmpty();
    assertThat(ProviderId.parse(null)).isEmpty();
    assertThat(ProviderId.instanceIdOf("i-42")).isEqualTo("i-42");
    assertThatThrownBy(() -> new ProviderId("us-east-1a", "")).isInstanceOf(IllegalArgumentException.class);
  }
}
