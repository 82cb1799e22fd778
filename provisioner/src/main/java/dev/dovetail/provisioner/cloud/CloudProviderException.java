package dev.dovetail.provisioner.cloud;

/** Errors a cloud provider reports, typed so the lifecycle can react to each. */
public abstract sealed class CloudProviderException extends RuntimeException
    permits CloudProviderException.InsufficientCapacity, CloudProviderException.NotFound, CloudProviderException.LaunchFailed {
  private static final long serialVersionUID = 1L;

  protected CloudProviderException(String message, Throwable cause) {
    super(message, cause);
  }

  /** No requested offering had capacity: the NodeClaim is deleted and its pods are simulated again without those offerings. */
  public static final class InsufficientCapacity extends CloudProviderException {
    private static final long serialVersionUID = 1L;

    public InsufficientCapacity(String message) {
      super(message, null);
    }
  }

  /** The instance is gone (or never existed). */
  public static final class NotFound extends CloudProviderException {
    private static final long serialVersionUID = 1L;

    public NotFound(String message) {
      super(message, null);
    }
  }

  /** Anything else: retried with backoff and reported on the NodeClaim. */
  public static final class LaunchFailed extends CloudProviderException {
    private static final long serialVersionUID = 1L;

    public LaunchFailed(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
