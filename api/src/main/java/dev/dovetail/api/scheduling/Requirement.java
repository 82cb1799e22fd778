package dev.dovetail.api.scheduling;

import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues.Operator;
import java.util.Collection;
import java.util.Collections;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;

/**
 * The values one label key may take, in one shape for every operator (Karpenter's): a finite set, or
 * (complement) everything but a finite set, optionally bounded by integer limits. {@code In} is a set,
 * {@code NotIn} a complement, {@code Exists} the complement of nothing, {@code DoesNotExist} the empty
 * set, and {@code Gt}/{@code Lt}/{@code Gte}/{@code Lte} a complement with bounds.
 *
 * @param greaterThan values must be integers above this (exclusive), if set
 * @param lessThan values must be integers below this (exclusive), if set
 * @param minValues least number of distinct values the launch must stay flexible across
 */
public record Requirement(String key, boolean complement, Set<String> values, Long greaterThan, Long lessThan, OptionalInt minValues) {

  public Requirement {
    Objects.requireNonNull(key, "key");
    // Most requirements hold one value (an instance type's, a label's): Set.of keeps it in 16 bytes where a sorted
    // copy takes about 120 (the catalog's options alone hold some 20,000 of them).
    values = switch (values.size()) {
      case 0 -> Set.of();
      case 1 -> Set.of(values.iterator().next());
      default -> Collections.unmodifiableSet(new TreeSet<>(values));
    };
    minValues = minValues == null ? OptionalInt.empty() : minValues;
  }

  public static Requirement in(String key, Collection<String> values) {
    return new Requirement(key, false, Set.copyOf(values), null, null, OptionalInt.empty());
  }

  public static Requirement in(String key, String... values) {
    return in(key, Set.of(values));
  }

  public static Requirement notIn(String key, Collection<String> values) {
    return new Requirement(key, true, Set.copyOf(values), null, null, OptionalInt.empty());
  }

  public static Requirement exists(String key) {
    return new Requirement(key, true, Set.of(), null, null, OptionalInt.empty());
  }

  public static Requirement doesNotExist(String key) {
    return new Requirement(key, false, Set.of(), null, null, OptionalInt.empty());
  }

  /** A requirement from the Kubernetes/Karpenter operator form. */
  public static Requirement of(String key, Operator operator, Collection<String> values, Integer minValues) {
    Collection<String> v = values == null ? Set.of() : values;
    OptionalInt min = minValues == null ? OptionalInt.empty() : OptionalInt.of(minValues);
    return switch (operator) {
      case In -> new Requirement(key, false, Set.copyOf(v), null, null, min);
      case NotIn -> new Requirement(key, true, Set.copyOf(v), null, null, min);
      case Exists -> new Requirement(key, true, Set.of(), null, null, min);
      case DoesNotExist -> new Requirement(key, false, Set.of(), null, null, min);
      case Gt -> new Requirement(key, true, Set.of(), number(key, v), null, min);
      case Lt -> new Requirement(key, true, Set.of(), null, number(key, v), min);
      case Gte -> new Requirement(key, true, Set.of(), number(key, v) - 1, null, min);
      case Lte -> new Requirement(key, true, Set.of(), null, number(key, v) + 1, min);
    };
  }

  /** Operators as Kubernetes node selectors spell them (Gt, Lt; no Gte/Lte). */
  public static Requirement of(String key, String operator, Collection<String> values) {
    return of(key, Operator.valueOf(operator), values, null);
  }

  private static long number(String key, Collection<String> values) {
    if (values.size() != 1) {
      throw new IllegalArgumentException("requirement on " + key + " needs exactly one integer value, not " + values);
    }
    try {
      return Long.parseLong(values.iterator().next());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("requirement on " + key + " needs an integer value, not " + values, e);
    }
  }

  private boolean withinBounds(String value) {
    if (greaterThan == null && lessThan == null) {
      return true;
    }
    long n;
    try {
      n = Long.parseLong(value);
    } catch (NumberFormatException e) {
      return false;
    }
    return (greaterThan == null || n > greaterThan) && (lessThan == null || n < lessThan);
  }

  /** Whether a node with this label value satisfies the requirement. */
  public boolean allows(String value) {
    return (complement != values.contains(value)) && withinBounds(value);
  }

  /** Whether a node without the label satisfies the requirement (NotIn and DoesNotExist do). */
  public boolean allowsAbsence() {
    return (complement && greaterThan == null && lessThan == null && !values.isEmpty()) || isDoesNotExist();
  }

  public boolean isDoesNotExist() {
    return !complement && values.isEmpty();
  }

  /** True when no value satisfies it. */
  public boolean isEmpty() {
    if (!complement) {
      return values.stream().noneMatch(this::withinBounds);
    }
    return greaterThan != null && lessThan != null && lessThan - greaterThan <= 1;
  }

  /** The values allowed by both. */
  public Requirement intersect(Requirement o) {
    Long gt = max(greaterThan, o.greaterThan);
    Long lt = min(lessThan, o.lessThan);
    OptionalInt min = minValues.isPresent() || o.minValues.isPresent()
        ? OptionalInt.of(Math.max(minValues.orElse(0), o.minValues.orElse(0))) : OptionalInt.empty();
    if (complement && o.complement) {
      Set<String> union = new TreeSet<>(values);
      union.addAll(o.values);
      return new Requirement(key, true, union, gt, lt, min);
    }
    Requirement finite = complement ? o : this;
    Requirement other = complement ? this : o;
    Set<String> kept = new TreeSet<>();
    for (String v : finite.values) {
      if (other.allows(v)) {
        kept.add(v);
      }
    }
    Requirement r = new Requirement(key, false, kept, gt, lt, min);
    Set<String> bounded = new TreeSet<>();
    for (String v : kept) {
      if (r.withinBounds(v)) {
        bounded.add(v);
      }
    }
    return new Requirement(key, false, bounded, null, null, min);
  }

  /** Non-allocating twin of {@code !intersect(o).isEmpty()}: does some value satisfy both? */
  public boolean intersects(Requirement o) {
    if (complement && o.complement) {
      Long gt = max(greaterThan, o.greaterThan);
      Long lt = min(lessThan, o.lessThan);
      return gt == null || lt == null || lt - gt > 1;
    }
    Requirement finite = complement ? o : this;
    Requirement other = complement ? this : o;
    for (String v : finite.values) {
      if (other.allows(v) && finite.withinBounds(v)) {
        return true;
      }
    }
    return false;
  }

  /** A value this requirement allows, for labelling a node; empty for complements. */
  public Optional<String> any() {
    if (complement) {
      return Optional.empty();
    }
    return values.stream().filter(this::withinBounds).findFirst();
  }

  // Written out: a conditional mixing Long and long would unbox a null.
  private static Long max(Long a, Long b) {
    if (a == null) {
      return b;
    }
    if (b == null) {
      return a;
    }
    return Long.valueOf(Math.max(a, b));
  }

  private static Long min(Long a, Long b) {
    if (a == null) {
      return b;
    }
    if (b == null) {
      return a;
    }
    return Long.valueOf(Math.min(a, b));
  }

  @Override
  public String toString() {
    String bounds = (greaterThan != null ? " >" + greaterThan : "") + (lessThan != null ? " <" + lessThan : "");
    if (complement) {
      return key + (values.isEmpty() ? (bounds.isEmpty() ? " Exists" : bounds) : " NotIn " + values + bounds);
    }
    return key + (values.isEmpty() ? " DoesNotExist" : " In " + values);
  }
}
