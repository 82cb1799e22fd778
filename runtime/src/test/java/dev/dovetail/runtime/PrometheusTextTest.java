package dev.dovetail.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dovetail.runtime.PrometheusText.Sample;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PrometheusTextTest {
  private static final String TEXT = """
      # HELP dovetail_workload_cost_per_hour Hourly cost
      # TYPE dovetail_workload_cost_per_hour gauge
      dovetail_workload_cost_per_hour{capacity_type="spot",kind="Deployment",namespace="shop",workload="web",} 0.25
      dovetail_workload_cost_per_hour{capacity_type="on-demand",kind="Deployment",namespace="shop",workload="web"} 1.5e-1
      dovetail_workload_cost_per_hour{capacity_type="spot",kind="Deployment",namespace="shop",workload="cart"} 0.5 1700000000000

      odd{path="a \\"quoted\\" \\\\ back,slash",empty=""} +Inf
      karpenter_cluster_state_synced 1.0
      """;

  @Test
  void readsNamesLabelsAndValuesAndSkipsComments() {
    List<Sample> samples = PrometheusText.parse(TEXT);

    assertThat(samples).hasSize(5);
    assertThat(samples.get(0)).isEqualTo(new Sample("dovetail_workload_cost_per_hour",
        Map.of("capacity_type", "spot", "kind", "Deployment", "namespace", "shop", "workload", "web"), 0.25));
    assertThat(samples.get(1).value()).isEqualTo(0.15);
    assertThat(samples.get(2).value()).isEqualTo(0.5);
    assertThat(samples.get(3).labels()).containsEntry("path", "a \"quoted\" \\ back,slash").containsEntry("empty", "");
    assertThat(samples.get(3).value()).isInfinite();
    assertThat(samples.get(4)).isEqualTo(new Sample("karpenter_cluster_state_synced", Map.of(), 1.0));
  }

  @Test
  void selectsAndSumsByNameAndLabels() {
    List<Sample> samples = PrometheusText.parse(TEXT);

    assertThat(PrometheusText.sum(samples, "dovetail_workload_cost_per_hour", Map.of("workload", "web"))).isEqualTo(0.4);
    assertThat(PrometheusText.select(samples, "dovetail_workload_cost_per_hour", Map.of("capacity_type", "spot")))
        .extracting(s -> s.label("workload")).containsExactly("web", "cart");
    assertThat(PrometheusText.sum(samples, "dovetail_workload_cost_per_hour", Map.of("workload", "none"))).isZero();
  }

  @Test
  void aLineThatIsNotASampleSaysWhich() {
    assertThatThrownBy(() -> PrometheusText.parse("ok 1\nbroken{a=b} 1\n")).hasMessageContaining("line 2").hasMessageContaining("broken");
  }
}
