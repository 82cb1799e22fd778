package dev.dovetail.api.scheduling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dovetail.api.karpenter.v1.NodeSelectorRequirementWithMinValues.Operator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class RequirementTest {
  private static final List<String> UNIVERSE = List.of("1", "2", "3", "4", "5", "8", "16", "a", "b", "c", "never-listed-value", "1000");

  @Test
  void operatorsMeanWhatKubernetesSays() {
    assertThat(Requirement.of("k", Operator.In, List.of("a", "b"), null).allows("a")).isTrue();
    assertThat(Requirement.of("k", Operator.In, List.of("a", "b"), null).allows("c")).isFalse();
    assertThat(Requirement.of("k", Operator.NotIn, List.of("a"), null).allows("b")).isTrue();
    assertThat(Requirement.of("k", Operator.NotIn, List.of("a"), null).allowsAbsence()).isTrue();
    assertThat(Requirement.of("k", Operator.Exists, null, null).allowsAbsence()).isFalse();
    assertThat(Requirement.of("k", Operator.DoesNotExist, null, null).allowsAbsence()).isTrue();
    assertThat(Requirement.of("k", Operator.Gt, List.of("4"), null).allows("5")).isTrue();
    assertThat(Requirement.of("k", Operator.Gt, List.of("4"), null).allows("4")).isFalse();
    assertThat(Requirement.of("k", Operator.Gt, List.of("4"), null).allows("abc")).isFalse();
    assertThat(Requirement.of("k", Operator.Gte, List.of("4"), null).allows("4")).isTrue();
    assertThat(Requirement.of("k", Operator.Lt, List.of("4"), null).allows("3")).isTrue();
    assertThat(Requirement.of("k", Operator.Lte, List.of("4"), null).allows("4")).isTrue();
    assertThatThrownBy(() -> Requirement.of("k", Operator.Gt, List.of("x"), null)).hasMessageContaining("needs an integer");
  }

  @Test
  void intersectionsNarrow() {
    Requirement gen = Requirement.of("gen", Operator.Gt, List.of("4"), null);
    Requirement in = Requirement.in("gen", "3", "5", "6");
    assertThat(gen.intersect(in).values()).containsExactlyInAnyOrder("5", "6");
    assertThat(Requirement.of("gen", Operator.Gt, List.of("4"), null).intersects(Requirement.of("gen", Operator.Lt, List.of("5"), null)))
        .isFalse();
    assertThat(Requirement.notIn("z", Set.of("a")).intersect(Requirement.notIn("z", Set.of("b"))).values()).containsExactly("a", "b");
    assertThat(Requirement.in("z", "a").intersects(Requirement.doesNotExist("z"))).isFalse();
  }

  @Test
  void requirementsCompatibilityNamesTheKey() {
    Requirements pool = Requirements.ofLabels(Map.of("team", "a")).and(Requirement.in("karpenter.sh/capacity-type", "spot"));
    Requirements pod = Requirements.of(Requirement.in("karpenter.sh/capacity-type", "on-demand"));
    assertThat(pool.compatible(pod)).hasValueSatisfying(c -> {
      assertThat(c.key()).isEqualTo("karpenter.sh/capacity-type");
      assertThat(c.defined()).isEqualTo(Requirement.in("karpenter.sh/capacity-type", "spot"));
      assertThat(c.required()).isEqualTo(Requirement.in("karpenter.sh/capacity-type", "on-demand"));
      assertThat(c.isUndefined()).isFalse();
      assertThat(c.message()).isEqualTo("incompatible requirements, key karpenter.sh/capacity-type, "
          + Requirement.in("karpenter.sh/capacity-type", "on-demand") + " not in " + Requirement.in("karpenter.sh/capacity-type", "spot"));
    });
    assertThat(pool.compatible(Requirements.of(Requirement.in("topology.kubernetes.io/zone", "us-east-1a")))).isEmpty();
    assertThat(pool.compatible(Requirements.of(Requirement.in("gpu-team", "x")))).hasValueSatisfying(c -> {
      assertThat(c.key()).isEqualTo("gpu-team");
      assertThat(c.isUndefined()).isTrue();
      assertThat(c.required()).isEqualTo(Requirement.in("gpu-team", "x"));
      assertThat(c.message()).isEqualTo("label gpu-team is not defined by the NodePool (requires " + Requirement.in("gpu-team", "x") + ")");
    });
    assertThat(pool.compatible(Requirements.of(Requirement.notIn("gpu-team", Set.of("x"))))).isEmpty();
    assertThat(Requirements.ofLabels(Map.of("failure-domain.beta.kubernetes.io/zone", "us-east-1a")).has("topology.kubernetes.io/zone")).isTrue();
  }

  @Provide
  Arbitrary<Requirement> requirements() {
    Arbitrary<Operator> ops = Arbitraries.of(Operator.values());
    Arbitrary<List<String>> values = Arbitraries.of(UNIVERSE).list().ofMinSize(1).ofMaxSize(4);
    Arbitrary<String> number = Arbitraries.integers().between(0, 20).map(String::valueOf);
    return Combinators.combine(ops, values, number).as((op, vs, n) -> switch (op) {
      case Gt, Lt, Gte, Lte -> Requirement.of("k", op, List.of(n), null);
      default -> Requirement.of("k", op, vs, null);
    });
  }

  @Property(tries = 3000)
  void intersectAllowsExactlyWhatBothAllow(@ForAll("requirements") Requirement a, @ForAll("requirements") Requirement b) {
    Requirement both = a.intersect(b);
    boolean anyInUniverse = false;
    for (String v : UNIVERSE) {
      assertThat(both.allows(v)).as("%s ∩ %s at %s", a, b, v).isEqualTo(a.allows(v) && b.allows(v));
      anyInUniverse |= a.allows(v) && b.allows(v);
    }
    if (anyInUniverse) {
      assertThat(a.intersects(b)).as("%s intersects %s", a, b).isTrue();
    }
    assertThat(a.intersects(b)).isEqualTo(b.intersects(a));
    assertThat(a.intersects(b)).as("intersects() agrees with intersect()").isEqualTo(!both.isEmpty());
  }
}
