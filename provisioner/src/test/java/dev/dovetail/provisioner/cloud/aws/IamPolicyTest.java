package dev.dovetail.provisioner.cloud.aws;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dovetail.testkit.RepoPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The shipped IAM policy allows every AWS call the provisioner's code makes, and only names known placeholders. */
class IamPolicyTest {
  private static final Path POLICY = RepoPaths.manifests().resolve("aws/iam-policy.json");
  private static final Pattern CALL = Pattern.compile("\\b(ec2|ssm|iam|sqs|pricing)(?:\\(\\))?\\.([a-z][A-Za-z]+)\\(");
  /** The Savings Plans client's calls (the field is named savingsPlans, as are lists elsewhere: only its describe calls count). */
  private static final Pattern SAVINGS_PLANS_CALL = Pattern.compile("\\bsavingsPlans\\.(describe[A-Za-z]+)\\(");

  private static Set<String> allowedActions() throws IOException {
    JsonNode policy = new ObjectMapper().readTree(Files.readString(POLICY));
    Set<String> actions = new TreeSet<>();
    for (JsonNode statement : policy.get("Statement")) {
      assertThat(statement.get("Effect").asText()).isEqualTo("Allow");
      JsonNode action = statement.get("Action");
      if (action.isArray()) {
        action.forEach(a -> actions.add(a.asText()));
      } else {
        actions.add(action.asText());
      }
    }
    return actions;
  }

  /** service:Action for each SDK call in the provisioner's main sources ({@code aws.ec2().createFleet(} → ec2:CreateFleet). */
  private static Set<String> calledActions() throws IOException {
    Set<String> called = new TreeSet<>();
    Path main = RepoPaths.root().resolve("provisioner/src/main/java");
    try (Stream<Path> files = Files.walk(main)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        Matcher m = CALL.matcher(Files.readString(f));
        while (m.find()) {
          // A paginator makes the call it is named after, page by page.
          String method = m.group(2).replaceFirst("Paginator$", "");
          // Not API calls: client plumbing, and Optional's methods on a field that holds a client.
          if (Set.of("close", "builder", "serviceName", "serviceClientConfiguration", "ifPresent", "orElseThrow", "map", "isPresent", "orElse")
              .contains(method)) {
            continue;
          }
          called.add(m.group(1) + ":" + Character.toUpperCase(method.charAt(0)) + method.substring(1));
        }
        Matcher plans = SAVINGS_PLANS_CALL.matcher(Files.readString(f));
        while (plans.find()) {
          called.add("savingsplans:" + Character.toUpperCase(plans.group(1).charAt(0)) + plans.group(1).substring(1));
        }
      }
    }
    return called;
  }

  @Test
  void everyCallTheProviderMakesIsAllowed() throws IOException {
    Set<String> called = calledActions();
    // The scan finds the calls it should (a broken pattern would make this test pass vacuously).
    assertThat(called).contains("ec2:CreateFleet", "ec2:DescribeInstances", "ec2:TerminateInstances", "ec2:CreateLaunchTemplate",
        "ssm:GetParameter", "iam:CreateInstanceProfile", "sqs:ReceiveMessage", "sqs:DeleteMessage", "ec2:DescribeInstanceTypes",
        "ec2:DescribeSpotPriceHistory", "pricing:GetProducts", "ec2:DescribeReservedInstances", "savingsplans:DescribeSavingsPlans",
        "savingsplans:DescribeSavingsPlanRates");
    assertThat(allowedActions()).containsAll(called);
  }

  @Test
  void placeholdersAreTheDocumentedOnes() throws IOException {
    Matcher m = Pattern.compile("\\$\\{([A-Z_]+)}").matcher(Files.readString(POLICY));
    Set<String> used = new TreeSet<>();
    while (m.find()) {
      used.add(m.group(1));
    }
    assertThat(used).isSubsetOf("REGION", "ACCOUNT_ID", "CLUSTER_NAME", "NODE_ROLE", "INTERRUPTION_QUEUE");
    String readme = Files.readString(POLICY.resolveSibling("README.md"));
    used.forEach(p -> assertThat(readme).contains("${" + p + "}"));
  }
}
