package dev.dovetail.report;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import javax.imageio.ImageIO;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StackedBarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.data.category.DefaultCategoryDataset;

/** The report's chart: cost and saving per workload (stacked: together the on-demand price), and spot share against the rule's. */
final class CostChart {
  private static final int WIDTH = 1200;
  private static final int HEIGHT = 450;

  private CostChart() {
  }

  static void write(CostTable table, File png) throws IOException {
    DefaultCategoryDataset money = new DefaultCategoryDataset();
    DefaultCategoryDataset shares = new DefaultCategoryDataset();
    for (CostTable.Workload w : table.workloads()) {
      money.addValue(w.cost(), "cost $/h", w.label());
      money.addValue(Math.max(0, w.savings()), "saved against on-demand $/h", w.label());
      shares.addValue(100 * w.spotShare(), "spot share %", w.label());
      shares.addValue(w.rule().map(t -> 100 * t.spotShare()).orElse(null), "rule's spot share %", w.label());
    }
    JFreeChart cost = chart("What each workload costs and saves per hour", plot(money, "$ per hour", new StackedBarRenderer(),
        new Color(0x1f77b4), new Color(0x2ca02c)));
    JFreeChart split = chart("Spot share of each workload against its rule", plot(shares, "% of replicas on spot", new BarRenderer(),
        new Color(0xff7f0e), new Color(0x7f7f7f)));
    ((NumberAxis) split.getCategoryPlot().getRangeAxis()).setRange(0, 100);
    BufferedImage image = new BufferedImage(WIDTH, 2 * HEIGHT, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      cost.draw(g, new Rectangle2D.Double(0, 0, WIDTH, HEIGHT));
      split.draw(g, new Rectangle2D.Double(0, HEIGHT, WIDTH, HEIGHT));
    } finally {
      g.dispose();
    }
    ImageIO.write(image, "png", png);
  }

  private static CategoryPlot plot(DefaultCategoryDataset data, String axis, BarRenderer renderer, Color first, Color second) {
    renderer.setSeriesPaint(0, first);
    renderer.setSeriesPaint(1, second);
    renderer.setShadowVisible(false);
    renderer.setBarPainter(new StandardBarPainter());
    CategoryAxis workloads = new CategoryAxis();
    workloads.setCategoryLabelPositions(CategoryLabelPositions.UP_45);
    CategoryPlot plot = new CategoryPlot(data, workloads, new NumberAxis(axis), renderer);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    return plot;
  }

  private static JFreeChart chart(String title, CategoryPlot plot) {
    JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
    chart.setBackgroundPaint(Color.WHITE);
    return chart;
  }
}
