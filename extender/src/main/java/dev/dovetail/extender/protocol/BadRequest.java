package dev.dovetail.extender.protocol;

/** A request kube-scheduler could not have sent: answered with 400 and this message in {@code Error}. */
public final class BadRequest extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public BadRequest(String message) {
    super(message);
  }

  public BadRequest(String message, Throwable cause) {
    super(message, cause);
  }
}
