package dev.dovetail.api.catalog;

import java.util.Optional;

/** The Spot Instance Advisor's interruption-frequency buckets, best first. */
public enum InterruptionBucket {
  UNDER_5("<5%"),
  FROM_5_TO_10("5-10%"),
  FROM_10_TO_15("10-15%"),
  FROM_15_TO_20("15-20%"),
  OVER_20(">20%");

  private final String label;

  InterruptionBucket(String label) {
    this.label = label;
  }

  public String label() {
    return label;
  }

  /** 0 for the least interrupted bucket, 4 for the most; types without data rank as 5. */
  public static int rank(Optional<InterruptionBucket> bucket) {
    return bucket.map(Enum::ordinal).orElse(values().length);
  }

  public static Optional<InterruptionBucket> fromLabel(String label) {
    for (InterruptionBucket b : values()) {
      if (b.label.equals(label)) {
        return Optional.of(b);
      }
    }
    return Optional.empty();
  }
}
