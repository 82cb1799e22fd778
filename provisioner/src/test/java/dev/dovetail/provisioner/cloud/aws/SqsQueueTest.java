package dev.dovetail.provisioner.cloud.aws;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SqsQueueTest {
  @Test
  void aQueueUrlNamesItsRegion() {
    assertThat(SqsQueue.regionInUrl("https://sqs.eu-west-1.amazonaws.com/123456789012/karpenter"))
        .hasValueSatisfying(r -> assertThat(r.id()).isEqualTo("eu-west-1"));
    assertThat(SqsQueue.regionInUrl("karpenter")).isEmpty();
  }
}
