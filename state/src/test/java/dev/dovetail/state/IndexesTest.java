package dev.dovetail.state;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.impl.cache.CacheImpl;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class IndexesTest {
  private static final String BY_PROVIDER_ID = "providerId";
  private static final String PROVIDER_ID = "aws:///us-east-1a/i-0123456789abcdef0";

  private static Node node(long version) {
    return new NodeBuilder().withNewMetadata().withName("node-a").withResourceVersion(Long.toString(version)).endMetadata()
        .withNewSpec().withProviderID(PROVIDER_ID).endSpec().build();
  }

  @Test
  void aNodeTheInformerKeepsUpdatingIsNeverMissingFromItsIndex() throws InterruptedException {
    CacheImpl<Node> cache = new CacheImpl<>(Cache.NAMESPACE_INDEX, Cache::metaNamespaceIndexFunc, Cache::metaNamespaceKeyFunc);
    cache.addIndexers(Map.of(BY_PROVIDER_ID, n -> List.of(n.getSpec().getProviderID())));
    cache.put(node(1));
    AtomicBoolean stop = new AtomicBoolean();
    // The informer's side: status updates of one node, as fast as they come.
    Thread informer = new Thread(() -> {
      for (long v = 2; !stop.get(); v++) {
        cache.put(node(v));
      }
    });
    informer.start();
    int misses = 0;
    try {
      for (int i = 0; i < 2_000_000; i++) {
        if (Indexes.byIndex(cache, BY_PROVIDER_ID, PROVIDER_ID).isEmpty()) {
          misses++;
        }
      }
    } finally {
      stop.set(true);
      informer.join();
    }
    assertThat(misses).as("reads that found no node for its provider ID").isZero();
  }
}
