package dev.dovetail.report;

import dev.dovetail.runtime.PrometheusText;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code scripts/cost-report}: what each workload of a running cluster costs and saves, as a table and a PNG chart. */
@Command(name = "cost-report", mixinStandardHelpOptions = true,
    description = "Reads the provisioner's per-workload cost gauges and prints what each workload costs and saves, with idle capacity.")
public final class CostReport implements Callable<Integer> {
  @Option(names = "--url", description = "The provisioner's metrics endpoint. Default: ${DEFAULT-VALUE}.")
  URI url = URI.create("http://127.0.0.1:18090/metrics");

  @Option(names = "--png", description = "Where the chart goes. Default: ${DEFAULT-VALUE}.")
  File png = new File("target/cost-report.png");

  public static void main(String[] args) {
    System.setProperty("java.awt.headless", "true");
    System.exit(new CommandLine(new CostReport()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    HttpResponse<String> response = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()
        .send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      System.err.println("cost-report: " + url + " answered " + response.statusCode());
      return 1;
    }
    CostTable table = CostTable.of(PrometheusText.parse(response.body()));
    if (table.workloads().isEmpty() && table.pools().isEmpty()) {
      System.err.println("cost-report: " + url + " has no dovetail_workload_* cost figures yet (they refresh every 15 s after start)");
      return 1;
    }
    System.out.printf("Workload cost from %s, %s UTC (each node's price split over its pods by requested CPU and memory)%n%n", url,
        LocalDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm")));
    System.out.print(table.render());
    File parent = png.getAbsoluteFile().getParentFile();
    if (parent != null) {
      parent.mkdirs();
    }
    CostChart.write(table, png);
    System.out.println("\nchart: " + png.getPath());
    return 0;
  }
}
