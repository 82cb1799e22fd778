package dev.dovetail.provisioner.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.config.v1alpha1.ClusterOrchestratorConfigSpec;
import dev.dovetail.api.config.v1alpha1.Consolidation;
import dev.dovetail.api.config.v1alpha1.PodEvictor;
import dev.dovetail.api.karpenter.v1.Budget;
import dev.dovetail.api.karpenter.v1.Disruption;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.provisioner.testing.NodePools;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How a ClusterOrchestratorConfig's consolidation settings map onto a managed NodePool's spec. */
class InForceTest {
  private static final PodEvictor ON = new PodEvictor(true, false, 30, 30, 20);

  private static ClusterOrchestratorConfigSpec spec(Consolidation consolidation) {
    return new ClusterOrchestratorConfigSpec(null, null, null, null, consolidation, null);
  }

  private static Consolidation consolidation(String policy, String after, Integer legacyMinutes, List<Budget> budgets, PodEvictor evictor) {
    return new Consolidation("48h", policy, after, legacyMinutes, budgets, null, evictor);
  }

  @Test
  void withBinPackingAndADelayThePoliciesAndDelayCarryOver() {
    InForce in = InForce.of(spec(consolidation("Empty", "10m", null, null, ON)));
    assertThat(in.policy()).isEqualTo(Disruption.ConsolidationPolicy.WhenEmpty);
    assertThat(in.consolidateAfter()).isEqualTo("10m");
    assertThat(in.expireAfter()).isEqualTo("48h");
    assertThat(in.scaleDownOff()).isEmpty();
    assertThat(in.podEvictor()).isEqualTo(ON);
  }

  @Test
  void theLegacyDelayIsInMinutes() {
    assertThat(InForce.of(spec(consolidation("Underutilized", null, 15, null, ON))).consolidateAfter()).isEqualTo("15m");
  }

  @Test
  void withoutBinPackingOrWithoutADelayTheClusterNeverScalesDown() {
    InForce noEvictor = InForce.of(spec(consolidation("WhenEmptyOrUnderutilized", "10m", null, null, new PodEvictor(false, false, 30, 30, 20))));
    assertThat(noEvictor.consolidateAfter()).isEqualTo("Never");
    assertThat(noEvictor.scaleDownOff()).hasValueSatisfying(why -> assertThat(why).contains("bin-packing is off"));
    assertThat(noEvictor.podEvictor()).isNull();

    InForce noDelay = InForce.of(spec(consolidation("WhenEmptyOrUnderutilized", null, null, null, ON)));
    assertThat(noDelay.consolidateAfter()).isEqualTo("Never");
    assertThat(noDelay.scaleDownOff()).hasValueSatisfying(why -> assertThat(why).contains("no node deletion delay"));

    InForce nothing = InForce.of(spec(null));
    assertThat(nothing.consolidateAfter()).isEqualTo("Never");
    assertThat(nothing.expireAfter()).isEqualTo(InForce.DEFAULT_NODE_EXPIRY);
    assertThat(nothing.policy()).isEqualTo(Disruption.ConsolidationPolicy.WhenEmptyOrUnderutilized);
  }

  @Test
  void thePatchHoldsOnlyWhatDiffersAndNothingOnceThePoolAgrees() {
    InForce in = InForce.of(spec(consolidation("Underutilized", "10m", null, List.of(Budget.nodes("1")), ON)));
    NodePool pool = NodePools.nodePool(p -> p.disruption(new Disruption("0s", Disruption.ConsolidationPolicy.WhenEmptyOrUnderutilized, null)));
    Map<String, Object> patch = in.patch(pool).orElseThrow();
    assertThat(patch).isEqualTo(Map.of("spec", Map.of(
        "disruption", Map.of("consolidateAfter", "10m", "budgets", List.of(Map.of("nodes", "1"))),
        "template", Map.of("spec", Map.of("expireAfter", "48h")))));

    NodePool agrees = NodePools.nodePool(p -> p.disruption(new Disruption("10m", Disruption.ConsolidationPolicy.WhenEmptyOrUnderutilized,
        List.of(Budget.nodes("1")))), p -> p.expireAfter("48h"));
    assertThat(in.patch(agrees)).isEmpty();
  }

  @Test
  void budgetsTheConfigDoesNotNameStayThePools() {
    InForce in = InForce.of(spec(consolidation("Underutilized", "10m", null, null, ON)));
    NodePool pool = NodePools.nodePool(p -> p.disruption(new Disruption("10m", Disruption.ConsolidationPolicy.WhenEmptyOrUnderutilized,
        List.of(Budget.nodes("3")))), p -> p.expireAfter("48h"));
    assertThat(in.patch(pool)).isEmpty();
  }
}
