package dev.dovetail.api.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.harness.v1.WorkloadDistributionRuleSpec.Selector;
import dev.dovetail.testkit.RepoPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The README's table of what 1-20 replicas give under a 70/30 rule is what the decision function computes. */
class ReadmeTableTest {
  static String table() {
    StringBuilder out = new StringBuilder();
    out.append("| replicas | base 0: spot | base 0: on-demand | base 2: spot | base 2: on-demand |\n");
    out.append("|---:|---:|---:|---:|---:|\n");
    DistributionRule base0 = DistributionRule.of(70, 0, Selector.SpotReady);
    DistributionRule base2 = DistributionRule.of(70, 2, Selector.SpotReady);
    for (int n = 1; n <= 20; n++) {
      Targets a = Distribution.targetsFor(base0, n);
      Targets b = Distribution.targetsFor(base2, n);
      out.append("| ").append(n).append(" | ").append(a.spot()).append(" | ").append(a.onDemand())
          .append(" | ").append(b.spot()).append(" | ").append(b.onDemand()).append(" |\n");
    }
    return out.toString();
  }

  @Test
  void readmeTableMatchesTheDecisionFunction() throws IOException {
    String readme = Files.readString(RepoPaths.root().resolve("README.md"));
    Matcher m = Pattern.compile("(?s)<!-- distribution-table:begin -->\\n(.*?)<!-- distribution-table:end -->").matcher(readme);
    assertThat(m.find()).as("README has the distribution table markers").isTrue();
    assertThat(m.group(1)).as("README distribution table (regenerate from ReadmeTableTest.table())").isEqualTo(table());
  }

  public static void main(String[] args) {
    System.out.print(table());
  }
}
