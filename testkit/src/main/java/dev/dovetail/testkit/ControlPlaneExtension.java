package dev.dovetail.testkit;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * Starts the real control plane a test class asks for ({@link WithApiServer} or {@link WithCluster})
 * once per test run, installs Dovetail's CRDs, and gives each test a fresh namespace.
 *
 * <p>When the control-plane binaries are missing the tests are skipped with a printed reason, unless
 * {@code DOVETAIL_REQUIRE_CLUSTER=true} (set by {@code .ci/run}), which turns the absence into a failure.
 * A control plane that is present but fails to start always fails the tests.
 */
public final class ControlPlaneExtension
    implements ExecutionCondition, BeforeAllCallback, BeforeEachCallback, AfterEachCallback, ParameterResolver {

  public static final String REQUIRE_ENV = "DOVETAIL_REQUIRE_CLUSTER";
  /** {@code local} (default: binaries from the cache) or {@code kind} (Docker; *ApiTest tier only). */
  public static final String BACKEND_ENV = "DOVETAIL_CONTROL_PLANE";
  private static final ExtensionContext.Namespace STORE = ExtensionContext.Namespace.create(ControlPlaneExtension.class);

  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    Optional<Class<?>> testClass = context.getTestClass();
    if (testClass.isEmpty()) {
      return ConditionEvaluationResult.enabled("no test class");
    }
    if (useKind()) {
      return kindCondition(context, testClass.get());
    }
    List<String> needed = isFullCluster(testClass.get()) ? K8sBinaries.FULL_CLUSTER : K8sBinaries.API_SERVER;
    List<String> missing = K8sBinaries.missing(needed);
    if (missing.isEmpty()) {
      return ConditionEvaluationResult.enabled("control-plane binaries present in " + K8sBinaries.dir());
    }
    String reason = "missing " + missing + " in " + K8sBinaries.dir()
        + " (build them with scripts/build-control-plane; needs Go and the Go module proxy)";
    if (requireCluster()) {
      throw new IllegalStateException(REQUIRE_ENV + " is set, so real-cluster tests may not skip: " + reason);
    }
    if (context.getTestMethod().isEmpty()) {
      System.err.println("[dovetail] SKIPPED " + testClass.get().getSimpleName() + ": " + reason);
    }
    return ConditionEvaluationResult.disabled(reason);
  }

  private static boolean useKind() {
    return "kind".equalsIgnoreCase(System.getenv(BACKEND_ENV));
  }

  private static ConditionEvaluationResult kindCondition(ExtensionContext context, Class<?> testClass) {
    String reason = null;
    if (isFullCluster(testClass)) {
      reason = "the E2E tier needs kwok-managed nodes, which the kind backend does not run; unset " + BACKEND_ENV;
    } else if (!KindControlPlane.dockerAvailable()) {
      reason = BACKEND_ENV + "=kind needs a Docker engine, and none answers";
    }
    if (reason == null) {
      return ConditionEvaluationResult.enabled("kind in Docker");
    }
    if (requireCluster()) {
      throw new IllegalStateException(REQUIRE_ENV + " is set, so real-cluster tests may not skip: " + reason);
    }
    if (context.getTestMethod().isEmpty()) {
      System.err.println("[dovetail] SKIPPED " + testClass.getSimpleName() + ": " + reason);
    }
    return ConditionEvaluationResult.disabled(reason);
  }

  static boolean requireCluster() {
    String v = System.getenv(REQUIRE_ENV);
    return v != null && (v.equalsIgnoreCase("true") || v.equals("1"));
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    controlPlane(context);
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    ControlPlane cp = controlPlane(context);
    String base = context.getRequiredTestMethod().getName().replaceAll("([a-z])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT)
        .replaceAll("[^a-z0-9-]", "-");
    base = base.length() > 40 ? base.substring(0, 40) : base;
    String name = ("t-" + base).replaceAll("-+$", "") + "-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 5);
    cp.client().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name)
        .addToLabels("dovetail.dev/test", "true").endMetadata().build()).create();
    context.getStore(STORE).put("namespace", new TestNamespace(name));
  }

  @Override
  public void afterEach(ExtensionContext context) {
    TestNamespace ns = context.getStore(STORE).remove("namespace", TestNamespace.class);
    if (ns != null) {
      // Not waited for: with only an API server (no namespace controller) deletion never completes.
      controlPlane(context).client().namespaces().withName(ns.name()).delete();
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    return type == ControlPlane.class || type == KubernetesClient.class || type == TestNamespace.class
        || (type == KwokCluster.class && isFullCluster(context.getRequiredTestClass()));
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    if (type == TestNamespace.class) {
      TestNamespace ns = context.getStore(STORE).get("namespace", TestNamespace.class);
      if (ns == null) {
        throw new ParameterResolutionException("a TestNamespace exists only inside a test method");
      }
      return ns;
    }
    ControlPlane cp = controlPlane(context);
    return type == KubernetesClient.class ? cp.client() : cp;
  }

  private static boolean isFullCluster(Class<?> testClass) {
    return AnnotationSupport.findAnnotation(testClass, WithCluster.class).isPresent();
  }

  /** The run-wide control plane for this class's tier, started on first use and closed when the run ends. */
  private static ControlPlane controlPlane(ExtensionContext context) {
    Class<?> testClass = context.getRequiredTestClass();
    Optional<WithCluster> cluster = AnnotationSupport.findAnnotation(testClass, WithCluster.class);
    String key = cluster.map(c -> "cluster:" + c.schedulerConfig()).orElse("apiserver");
    ExtensionContext.Store root = context.getRoot().getStore(STORE);
    // JUnit closes AutoCloseable store values (the control plane) when the run ends.
    return root.getOrComputeIfAbsent(key, k -> start(cluster), ControlPlane.class);
  }

  private static ControlPlane start(Optional<WithCluster> cluster) {
    long t0 = System.nanoTime();
    ControlPlane cp = useKind() ? KindControlPlane.start()
        : cluster.isPresent() ? KwokCluster.start(Optional.of(cluster.get().schedulerConfig()).filter(s -> !s.isEmpty()).map(s -> RepoPaths.root().resolve(s)))
        : ApiServerControlPlane.start();
    try {
      installCrds(cp.client());
    } catch (RuntimeException e) {
      cp.close();
      throw e;
    }
    System.err.printf("[dovetail] started %s in %d ms%n", cp.description(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    return cp;
  }

  /** Applies manifests/crds and waits until every CRD is Established. */
  public static void installCrds(KubernetesClient client) {
    Path dir = RepoPaths.manifests().resolve("crds");
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        CustomResourceDefinition crd = Serialization.unmarshal(Files.readString(f), CustomResourceDefinition.class);
        client.apiextensions().v1().customResourceDefinitions().resource(crd).forceConflicts().serverSideApply();
        client.apiextensions().v1().customResourceDefinitions().withName(crd.getMetadata().getName())
            .waitUntilCondition(c -> c != null && c.getStatus() != null && c.getStatus().getConditions() != null && c.getStatus().getConditions().stream()
                .anyMatch(x -> "Established".equals(x.getType()) && "True".equals(x.getStatus())), 60, TimeUnit.SECONDS);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read CRDs from " + dir, e);
    }
  }
}
