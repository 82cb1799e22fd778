package dev.dovetail.simulator;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.File;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.LegendItemCollection;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** The simulation's chart: each strategy's cost per hour over the period, and its cumulative cost, as a PNG. */
final class CostChart {
  private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0x2ca02c), new Color(0xd62728), new Color(0xff7f0e)};

  private CostChart() {
  }

  static void write(List<Outcome> outcomes, Scenario scenario, File png) throws IOException {
    boolean days = scenario.period().compareTo(Duration.ofDays(1)) >= 0;
    double unit = days ? 86_400 : 60;
    XYSeriesCollection perHour = new XYSeriesCollection();
    XYSeriesCollection cumulative = new XYSeriesCollection();
    for (Outcome o : outcomes) {
      XYSeries hourly = new XYSeries(o.strategy().label());
      XYSeries total = new XYSeries(o.strategy().label());
      double sum = 0;
      double perBucket = o.bucket().toSeconds() / unit;
      for (int i = 0; i < o.costSeries().size(); i++) {
        hourly.add(i * perBucket, o.costSeries().get(i) * 3600 / o.bucket().toSeconds());
        sum += o.costSeries().get(i);
        total.add((i + 1) * perBucket, sum);
      }
      perHour.addSeries(hourly);
      cumulative.addSeries(total);
    }
    CombinedDomainXYPlot plot = new CombinedDomainXYPlot(new NumberAxis(days ? "day" : "minute"));
    plot.add(plot(perHour, "$ per hour"), 1);
    XYPlot lower = plot(cumulative, "$ so far");
    // Both plots show the same strategies in the same colours: one legend is enough.
    lower.setFixedLegendItems(new LegendItemCollection());
    plot.add(lower, 1);
    String length = days ? scenario.period().toDays() + " days" : scenario.period().toSeconds() / 60.0 + " minutes";
    JFreeChart chart = new JFreeChart("Spot savings simulation: " + length + ", seed " + scenario.seed(),
        JFreeChart.DEFAULT_TITLE_FONT, plot, true);
    chart.setBackgroundPaint(Color.WHITE);
    ChartUtils.saveChartAsPNG(png, chart, 1200, 800);
  }

  private static XYPlot plot(XYSeriesCollection data, String axis) {
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
    for (int i = 0; i < data.getSeriesCount(); i++) {
      renderer.setSeriesPaint(i, COLORS[i % COLORS.length]);
      renderer.setSeriesStroke(i, new BasicStroke(1.5f));
    }
    XYPlot plot = new XYPlot(data, null, new NumberAxis(axis), renderer);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    return plot;
  }
}
