package dev.dovetail.state;

import java.util.Optional;

/**
 * Placements decided for pods the scheduler has not bound yet. kube-scheduler assumes a pod on its
 * node long before the binding reaches our informers; without this, a burst of replicas would all be
 * counted against the same, stale picture.
 */
@FunctionalInterface
public interface InFlight {
  InFlight NONE = uid -> Optional.empty();

  /** Where an unbound pod is expected: whether it takes a spot place, and on which node if known. */
  record Expected(boolean holdsSpot, Optional<String> node) {
  }

  Optional<Expected> expected(String podUid);
}
