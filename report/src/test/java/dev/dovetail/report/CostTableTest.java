package dev.dovetail.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.dovetail.runtime.PrometheusText;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CostTableTest {
  /** web: 2 spot replicas ($0.04, $0.10 on-demand) and 1 on-demand ($0.05); cart: 1 on spot, no rule; pool idle $0.03 + $0.01. */
  private static final String METRICS = """
      # HELP dovetail_workload_cost_per_hour cost
      dovetail_workload_cost_per_hour{capacity_type="spot",kind="Deployment",namespace="shop",workload="web"} 0.04
      dovetail_workload_cost_per_hour{capacity_type="on-demand",kind="Deployment",namespace="shop",workload="web"} 0.05
      dovetail_workload_cost_per_hour{capacity_type="spot",kind="StatefulSet",namespace="shop",workload="cart"} 0.02
      dovetail_workload_on_demand_equivalent_cost_per_hour{capacity_type="spot",kind="Deployment",namespace="shop",workload="web"} 0.10
      dovetail_workload_on_demand_equivalent_cost_per_hour{capacity_type="on-demand",kind="Deployment",namespace="shop",workload="web"} 0.05
      dovetail_workload_on_demand_equivalent_cost_per_hour{capacity_type="spot",kind="StatefulSet",namespace="shop",workload="cart"} 0.06
      dovetail_workload_replicas{capacity_type="spot",kind="Deployment",namespace="shop",workload="web"} 2
      dovetail_workload_replicas{capacity_type="on-demand",kind="Deployment",namespace="shop",workload="web"} 1
      dovetail_workload_replicas{capacity_type="spot",kind="StatefulSet",namespace="shop",workload="cart"} 1
      dovetail_workload_target_spot_share_ratio{kind="Deployment",namespace="shop",rule="shop-rule",workload="web"} 0.6666666666666666
      dovetail_nodepool_cost_per_hour{nodepool="general"} 0.12
      dovetail_nodepool_cost_per_hour{nodepool=""} 0.03
      dovetail_nodepool_idle_cost_per_hour{nodepool="general"} 0.01
      dovetail_nodepool_idle_cost_per_hour{nodepool=""} 0.03
      karpenter_cluster_state_synced 1.0
      """;

  private final CostTable table = CostTable.of(PrometheusText.parse(METRICS));

  @Test
  void aRowPerWorkloadOverItsCapacityTypesCostliestFirst() {
    assertThat(table.workloads()).extracting(CostTable.Workload::label).containsExactly("shop/web", "shop/cart");
    CostTable.Workload web = table.workloads().get(0);
    assertThat(web.spot()).isEqualTo(2);
    assertThat(web.onDemand()).isEqualTo(1);
    assertThat(web.cost()).isCloseTo(0.09, within(1e-12));
    assertThat(web.savings()).isCloseTo(0.06, within(1e-12));
    assertThat(web.rule()).contains(new CostTable.Target("shop-rule", 2 / 3.0));
    assertThat(table.workloads().get(1).rule()).isEqualTo(Optional.empty());
    assertThat(table.workloads().get(1).kind()).isEqualTo("StatefulSet");
  }

  @Test
  void workloadsAndIdleAddUpToTheNodesAndThePoolsAreListed() {
    assertThat(table.workloadCost() + table.idle()).isCloseTo(table.nodesCost(), within(1e-12));
    String text = table.render();
    assertThat(text).contains("shop/web").contains("67 % ( 67 % shop-rule)").contains("(no rule)")
        .contains("Nodes $0.1500/h: workloads $0.1100/h, idle $0.0400/h (27 %)")
        .contains("NodePool general").contains("NodePool (none)");
    // Saved: (0.10 + 0.05 + 0.06) - 0.11 = 0.10 of 0.21 on-demand, 48 %.
    assertThat(text).containsPattern("all workloads\\s+3\\s+1\\s+0\\.1100\\s+0\\.2100\\s+0\\.1000\\s+48%");
  }

  @Test
  void theChartIsAPngWithBothPanels(@TempDir Path dir) throws Exception {
    File png = dir.resolve("cost.png").toFile();

    CostChart.write(table, png);

    BufferedImage image = ImageIO.read(png);
    assertThat(Files.size(png.toPath())).isPositive();
    assertThat(image.getWidth()).isEqualTo(1200);
    assertThat(image.getHeight()).isEqualTo(900);
  }
}
