package dev.dovetail.api.scheduling;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues;
import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues.Operator;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeSelectorTerm;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Requirements over several label keys, ANDed; a key that is not listed is unconstrained. Beta label
 * keys are normalised to their stable names. Immutable; {@code and} returns a new value.
 */
public final class Requirements {
  private int hash;
  public static final Requirements NONE = new Requirements(Map.of());

  private final Map<String, Requirement> byKey;

  private Requirements(Map<String, Requirement> byKey) {
    this.byKey = Collections.unmodifiableMap(byKey);
  }

  public static Requirements of(Collection<Requirement> requirements) {
    Requirements r = NONE;
    for (Requirement req : requirements) {
      r = r.and(req);
    }
    return r;
  }

  public static Requirements of(Requirement... requirements) {
    return of(List.of(requirements));
  }

  /** Each label as an {@code In} requirement of its single value. */
  public static Requirements ofLabels(Map<String, String> labels) {
    Map<String, Requirement> out = new TreeMap<>();
    if (labels != null) {
      labels.forEach((k, v) -> out.put(WellKnownLabels.normalize(k), Requirement.in(WellKnownLabels.normalize(k), v)));
    }
    return new Requirements(out);
  }

  /** A NodePool's or NodeClaim's requirements. */
  public static Requirements ofKarpenter(Collection<NodeSelectorRequirementWithMinValues> requirements) {
    Requirements r = NONE;
    if (requirements != null) {
      for (NodeSelectorRequirementWithMinValues q : requirements) {
        r = r.and(Requirement.of(WellKnownLabels.normalize(q.key()), q.operator(), q.values(), q.minValues()));
      }
    }
    return r;
  }

  /** One term of a pod's required node affinity. */
  public static Requirements ofTerm(NodeSelectorTerm term) {
    Requirements r = NONE;
    if (term != null && term.getMatchExpressions() != null) {
      for (NodeSelectorRequirement e : term.getMatchExpressions()) {
        r = r.and(Requirement.of(WellKnownLabels.normalize(e.getKey()), e.getOperator(), e.getValues()));
      }
    }
    return r;
  }

  /** Intersects with one more requirement (on a shared key the two intersect). */
  public Requirements and(Requirement requirement) {
    Map<String, Requirement> out = new TreeMap<>(byKey);
    out.merge(requirement.key(), requirement, Requirement::intersect);
    return new Requirements(out);
  }

  public Requirements and(Requirements other) {
    if (other.byKey.isEmpty()) {
      return this;
    }
    Map<String, Requirement> out = new TreeMap<>(byKey);
    other.byKey.forEach((k, v) -> out.merge(k, v, Requirement::intersect));
    return new Requirements(out);
  }

  public Optional<Requirement> get(String key) {
    return Optional.ofNullable(byKey.get(key));
  }

  public boolean has(String key) {
    return byKey.containsKey(key);
  }

  public Set<String> keys() {
    return byKey.keySet();
  }

  public Collection<Requirement> all() {
    return byKey.values();
  }

  /** Whether the two share a value on every common key (the allocation-free twin of {@link #conflict}). */
  public boolean intersects(Requirements other) {
    Map<String, Requirement> small = byKey.size() <= other.byKey.size() ? byKey : other.byKey;
    Map<String, Requirement> large = small == byKey ? other.byKey : byKey;
    for (Map.Entry<String, Requirement> e : small.entrySet()) {
      Requirement o = large.get(e.getKey());
      if (o != null && !e.getValue().intersects(o)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Why two sets of requirements cannot both hold, on one key: {@code defined} is what one side (say, a
   * NodePool's requirements) says of the key, {@code required} what the other (a pod's) requires of it.
   * {@code defined} is null when the first side leaves the key undefined and the second needs it set.
   */
  public record Conflict(String key, Requirement defined, Requirement required) {
    public Conflict {
      if (key == null || required == null) {
        throw new IllegalArgumentException("a conflict names its key and what is required");
      }
    }

    /** The two share no value on the key. */
    public static Conflict disjoint(String key, Requirement defined, Requirement required) {
      return new Conflict(key, defined, required);
    }

    /** The key is required but not defined by the other side (and its absence not allowed). */
    public static Conflict undefined(String key, Requirement required) {
      return new Conflict(key, null, required);
    }

    /** Whether the key is undefined rather than defined with no value in common. */
    public boolean isUndefined() {
      return defined == null;
    }

    /** For people: events, logs and the reasons a pod fits nowhere. */
    public String message() {
      return defined == null ? "label " + key + " is not defined by the NodePool (requires " + required + ")"
          : "incompatible requirements, key " + key + ", " + required + " not in " + defined;
    }

    @Override
    public String toString() {
      return message();
    }
  }

  /** The first key on which the two share no value; empty when they intersect. */
  public Optional<Conflict> conflict(Requirements other) {
    Map<String, Requirement> small = byKey.size() <= other.byKey.size() ? byKey : other.byKey;
    Map<String, Requirement> large = small == byKey ? other.byKey : byKey;
    for (Map.Entry<String, Requirement> e : small.entrySet()) {
      Requirement o = large.get(e.getKey());
      if (o != null && !e.getValue().intersects(o)) {
        return Optional.of(Conflict.disjoint(e.getKey(), byKey.get(e.getKey()), other.byKey.get(e.getKey())));
      }
    }
    return Optional.empty();
  }

  /**
   * Whether a node described by these requirements can satisfy a pod's: shared keys must intersect, and
   * every key the pod needs but these leave undefined must be one the provisioner decides at launch (the
   * provider's, and {@link DovetailLabels#CAPACITY_FALLBACK}) or one whose absence the pod accepts (NotIn,
   * DoesNotExist). A claim already launched says what it decided: in-flight claims define the fallback key.
   */
  public Optional<Conflict> compatible(Requirements pod) {
    Optional<Conflict> conflict = conflict(pod);
    if (conflict.isPresent()) {
      return conflict;
    }
    for (Requirement p : pod.byKey.values()) {
      if (!byKey.containsKey(p.key()) && !WellKnownLabels.PROVIDER_DEFINED.contains(p.key())
          && !p.key().equals(DovetailLabels.CAPACITY_FALLBACK) && !p.allowsAbsence()) {
        return Optional.of(Conflict.undefined(p.key(), p));
      }
    }
    return Optional.empty();
  }

  /**
   * The NodeClaim form: one entry per operator (a key with NotIn values and bounds becomes NotIn, Gt
   * and Lt entries, which Karpenter ANDs), minValues on the first entry of its key.
   */
  public List<NodeSelectorRequirementWithMinValues> toKarpenter() {
    List<NodeSelectorRequirementWithMinValues> out = new ArrayList<>();
    for (Requirement r : byKey.values()) {
      Integer min = r.minValues().isPresent() ? r.minValues().getAsInt() : null;
      List<NodeSelectorRequirementWithMinValues> forKey = new ArrayList<>();
      if (!r.complement()) {
        forKey.add(new NodeSelectorRequirementWithMinValues(r.key(),
            r.values().isEmpty() ? Operator.DoesNotExist : Operator.In, r.values().isEmpty() ? null : List.copyOf(r.values()), null));
      } else {
        if (!r.values().isEmpty()) {
          forKey.add(new NodeSelectorRequirementWithMinValues(r.key(), Operator.NotIn, List.copyOf(r.values()), null));
        }
        if (r.greaterThan() != null) {
          forKey.add(new NodeSelectorRequirementWithMinValues(r.key(), Operator.Gt, List.of(String.valueOf(r.greaterThan())), null));
        }
        if (r.lessThan() != null) {
          forKey.add(new NodeSelectorRequirementWithMinValues(r.key(), Operator.Lt, List.of(String.valueOf(r.lessThan())), null));
        }
        if (forKey.isEmpty()) {
          forKey.add(new NodeSelectorRequirementWithMinValues(r.key(), Operator.Exists, null, null));
        }
      }
      if (min != null) {
        NodeSelectorRequirementWithMinValues first = forKey.get(0);
        forKey.set(0, new NodeSelectorRequirementWithMinValues(first.key(), first.operator(), first.values(), min));
      }
      out.addAll(forKey);
    }
    return out;
  }

  /** Labels a node gets from single-valued requirements. */
  public Map<String, String> singleValues() {
    Map<String, String> out = new TreeMap<>();
    for (Requirement r : byKey.values()) {
      if (!r.complement() && r.values().size() == 1) {
        out.put(r.key(), r.values().iterator().next());
      }
    }
    return out;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Requirements r && byKey.equals(r.byKey);
  }

  @Override
  public int hashCode() {
    int h = hash;
    if (h == 0) {
      h = byKey.hashCode();
      hash = h;  // immutable: computed once (requirements key the simulation's caches)
    }
    return h;
  }

  @Override
  public String toString() {
    return byKey.values().toString();
  }
}
