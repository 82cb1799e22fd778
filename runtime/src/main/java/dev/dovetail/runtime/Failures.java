package dev.dovetail.runtime;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Errors as async code receives them, without the wrappers futures add. */
public final class Failures {
  private Failures() {
  }

  /** The error a future failed with, unwrapped from any CompletionException or ExecutionException around it. */
  public static Throwable cause(Throwable error) {
    Throwable t = error;
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
