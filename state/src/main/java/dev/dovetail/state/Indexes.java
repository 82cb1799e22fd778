package dev.dovetail.state;

import io.fabric8.kubernetes.client.informers.cache.Indexer;
import java.util.List;

/**
 * Index reads that never miss an object while the informer updates it.
 *
 * <p>fabric8's cache updates an object's indices in two steps, its old index values out and then its new
 * ones in, under the cache's own monitor ({@code put} and {@code remove} are synchronized); {@code byIndex}
 * takes no lock. A read that falls between the two steps finds nothing for a key the object has before and
 * after the update: a Node whose status changed looked gone, a pod looked off its node. Reading under the
 * same monitor sees an update either whole or not at all. The lock is held for an index lookup only.
 */
public final class Indexes {
  private Indexes() {
  }

  /** The objects whose {@code index} values include {@code key}, read consistently with the informer's updates. */
  public static <T> List<T> byIndex(Indexer<T> indexer, String index, String key) {
    synchronized (indexer) {
      return indexer.byIndex(index, key);
    }
  }
}
