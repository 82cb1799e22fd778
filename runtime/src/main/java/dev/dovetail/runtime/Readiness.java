package dev.dovetail.runtime;

import java.util.Optional;
import java.util.function.Supplier;

/**
 * One condition of readiness: a name and a function returning what is wrong, or nothing when ready.
 * Must be cheap and non-blocking; it runs on an event loop for every probe.
 */
public record Readiness(String name, Supplier<Optional<String>> problem) {
  public static Readiness always(String name) {
    return new Readiness(name, Optional::empty);
  }
}
