package dev.dovetail.extender.protocol;

/** One entry of kube-scheduler's {@code HostPriorityList}: a node and its score, 0 to 10. */
public record HostPriority(String host, int score) {
  public static final int MIN = 0;
  public static final int MAX = 10;

  public HostPriority {
    if (score < MIN || score > MAX) {
      throw new IllegalArgumentException("extender scores are 0-10, not " + score);
    }
  }
}
