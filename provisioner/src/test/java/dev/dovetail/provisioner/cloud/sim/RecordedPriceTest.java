package dev.dovetail.provisioner.cloud.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The launch price on a node is read where it is a price, and a hand-edited value is passed over, not thrown. */
class RecordedPriceTest {
  private static Node node(Map<String, String> annotations) {
    return new NodeBuilder().withNewMetadata().withName("n").withAnnotations(annotations).endMetadata().build();
  }

  @Test
  void aRecordedPriceIsRead() {
    assertThat(SimCloudProvider.recordedPrice(node(Map.of(SimCloudProvider.PRICE_ANNOTATION, "0.0416"))).getAsDouble()).isEqualTo(0.0416);
  }

  @Test
  void noneOrNotAPriceIsEmpty() {
    assertThat(SimCloudProvider.recordedPrice(node(Map.of()))).isEmpty();
    assertThat(SimCloudProvider.recordedPrice(node(Map.of(SimCloudProvider.PRICE_ANNOTATION, "cheap")))).isEmpty();
    assertThat(SimCloudProvider.recordedPrice(node(Map.of(SimCloudProvider.PRICE_ANNOTATION, "-1")))).isEmpty();
    assertThat(SimCloudProvider.recordedPrice(node(Map.of(SimCloudProvider.PRICE_ANNOTATION, "NaN")))).isEmpty();
  }
}
