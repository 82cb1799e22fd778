package dev.dovetail.provisioner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dovetail.testkit.ContainerImage;
import dev.dovetail.testkit.ControlPlane;
import dev.dovetail.testkit.Ports;
import dev.dovetail.testkit.ProcessResult;
import dev.dovetail.testkit.Processes;
import dev.dovetail.testkit.RepoPaths;
import dev.dovetail.testkit.WithApiServer;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The three components' container images (Jib, built by {@code ./mvnw package} when scripts/test names the base
 * scripts/build-base-image assembles): each is that base under the component's own layers, with the reference, user,
 * JVM flags and main class its manifest and jar say; each runs in its own file system on its own Java runtime; and
 * the provisioner's and extender's images come up ready against a real API server.
 */
@WithApiServer
class ContainerImagesApiTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  /** A component: its module (and image) and its container in the rendered manifests. */
  private record Component(String module, String container, String manifest) {
    Path tarball() {
      return RepoPaths.root().resolve(module).resolve("target").resolve("dovetail-" + module + "-image.tar");
    }

    Path jar() {
      return RepoPaths.root().resolve(module).resolve("target").resolve("dovetail-" + module + ".jar");
    }
  }

  private static final Component PROVISIONER = new Component("provisioner", "provisioner", "manifests/provisioner/deployment.yaml");
  private static final Component EXTENDER = new Component("extender", "dovetail-extender", "manifests/extender/deployment.yaml");
  private static final List<Component> COMPONENTS = List.of(PROVISIONER, EXTENDER,
      new Component("interrupt-listener", "interrupt-listener", "manifests/interrupt-listener/daemonset.yaml"));

  @Test
  void eachImageIsTheBaseUnderTheComponentAsItsManifestRunsIt(KubernetesClient client, @TempDir Path work) throws Exception {
    ContainerImage base = ContainerImage.read(ContainerImage.requireBase(), work.resolve("base"));
    assertThat(base.layers()).hasSize(1);
    assertThat(base.layers().get(0).paths()).contains("/opt/java/bin/java", "/opt/java/lib/server/libjvm.so",
        "/opt/java/lib/server/classes.jsa", "/opt/java/lib/security/cacerts", "/etc/passwd", "/tmp");
    for (Component c : COMPONENTS) {
      ContainerImage image = ContainerImage.read(ContainerImage.require(c.tarball()), work.resolve(c.module()));
      Manifested m = manifested(client, c);
      String what = c.module() + "'s image";
      assertThat(image.reference()).as(what + " is the image its manifest names").isEqualTo(m.container().getImage());
      assertThat(image.config().user()).as(what + " runs as nonroot").isEqualTo("65532:65532");
      Stream.of(m.pod().getSecurityContext() == null ? null : m.pod().getSecurityContext().getRunAsUser(),
          m.container().getSecurityContext() == null ? null : m.container().getSecurityContext().getRunAsUser())
          .filter(Objects::nonNull).forEach(uid -> assertThat(uid).as(what + ": the manifest's user").isEqualTo(65532L));
      assertThat(image.config().env()).as(what + ": the manifest's JVM flags are the image's")
          .containsEntry("JAVA_TOOL_OPTIONS", env(m.container(), "JAVA_TOOL_OPTIONS")).containsEntry("PATH", "/opt/java/bin:/usr/bin:/bin");
      assertThat(image.config().entrypoint()).as(what + "'s entrypoint")
          .containsExactly("java", "-cp", "@/app/jib-classpath-file", mainClass(c.jar()));

      // The base's one layer first, unchanged; then the component's dependencies, resources and classes apart.
      assertThat(image.config().diffIds().get(0)).as(what + " starts from the base").isEqualTo(base.config().diffIds().get(0));
      assertThat(image.layers()).hasSizeGreaterThanOrEqualTo(4);
      List<String> appPaths = new ArrayList<>();
      image.layers().subList(1, image.layers().size()).forEach(l -> appPaths.addAll(l.paths()));
      assertThat(appPaths).as(what + ": the component's own layers hold only /app").allMatch(p -> p.equals("/app") || p.startsWith("/app/"));
      String mainClassFile = "/app/classes/" + mainClass(c.jar()).replace('.', '/') + ".class";
      ContainerImage.Layer classes = image.layers().stream().filter(l -> l.paths().contains(mainClassFile)).findFirst().orElseThrow();
      assertThat(classes.paths()).as(what + ": dependencies are not in the classes' layer").noneMatch(p -> p.endsWith(".jar"));
      assertThat(image.layers()).as(what + ": a layer of dependencies")
          .anyMatch(l -> l.paths().stream().anyMatch(p -> p.matches("/app/libs/kubernetes-client-api-.*\\.jar")));
      assertThat(image.layers().stream().flatMap(l -> l.paths().stream()))
          .as(what + " has no shell").doesNotContain("/bin/sh", "/usr/bin/sh", "/bin/bash", "/usr/bin/bash");
    }
  }

  @Test
  void eachImageRunsOnItsOwnJavaRuntime(@TempDir Path work) throws Exception {
    ContainerImage.requireRunnable();
    for (Component c : COMPONENTS) {
      ContainerImage image = ContainerImage.read(ContainerImage.require(c.tarball()), work.resolve(c.module()));
      Path root = image.unpack(work.resolve(c.module()).resolve("root"));
      // Every classpath entry is in the image.
      String classpath = Files.readString(root.resolve("app/jib-classpath-file")).trim();
      assertThat(classpath.split(":")).allSatisfy(entry -> assertThat(root.resolve(entry.substring(1))).exists());

      ProcessResult help = Processes.run(image.command(root, List.of("--help"), Map.of()), Map.of(), Duration.ofMinutes(1));
      String what = c.module() + "'s image, --help";
      assertThat(help.exitCode()).as(what + ": " + help.stderr()).isZero();
      assertThat(help.stdout()).as(what).startsWith("Usage: dovetail-" + c.module());
      assertThat(help.stdout() + help.stderr()).as(what + ": picocli formats every description").doesNotContain("picocli WARN");
      // The flags the image sets reach its JVM; nothing else can run here, as the host's file system is out of sight.
      assertThat(help.stderr()).as(what).contains("Picked up JAVA_TOOL_OPTIONS: " + image.config().env().get("JAVA_TOOL_OPTIONS"));
    }
  }

  @Test
  void theProvisionerAndExtenderImagesComeUpAgainstAnApiServer(ControlPlane cp, KubernetesClient client, @TempDir Path work) throws Exception {
    ContainerImage.requireRunnable();
    for (Component c : List.of(PROVISIONER, EXTENDER)) {
      ContainerImage image = ContainerImage.read(ContainerImage.require(c.tarball()), work.resolve(c.module()));
      Path root = image.unpack(work.resolve(c.module()).resolve("root"));
      int extenderPort = Ports.free();
      List<String> args = c == PROVISIONER ? List.of("--cloud-provider=sim") : List.of("--port=" + extenderPort);
      // Ready means the caches listed from the API server over TLS, with the image's runtime and CA certificates.
      try (DeployedJar running = DeployedJar.startImage(client, cp.kubeconfig(), c.container(), c.manifest(), image, root, args)) {
        String metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + running.metricsPort() + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).as(c.module() + "'s metrics, from its image").contains("jvm_memory_used_bytes");
        assertThat(running.handle().info().command()).as(c.module() + " runs the image's java").hasValueSatisfying(cmd -> assertThat(cmd)
            .endsWith("/opt/java/bin/java"));
        if (c == EXTENDER) {
          // The extender's own server (Vert.x, started after the caches) answers kube-scheduler's port, in the pod's file system.
          await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).ignoreExceptionsInstanceOf(ConnectException.class)
              .untilAsserted(() -> {
            assertThat(running.handle().isAlive()).as(() -> "the extender is running; its log:\n" + tail(running.log())).isTrue();
            assertThat(HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + extenderPort + "/readyz")).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(200);
          });
        }
        assertThat(running.handle().isAlive()).as(() -> c.module() + " still running; its log:\n" + tail(running.log())).isTrue();
      }
    }
  }

  /** The last lines of a log, for a failure message (the test's temporary directory is gone afterwards). */
  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }

  private record Manifested(PodSpec pod, Container container) {
  }

  private static Manifested manifested(KubernetesClient client, Component c) throws IOException {
    try (InputStream in = Files.newInputStream(RepoPaths.root().resolve(c.manifest()))) {
      for (HasMetadata item : client.load(in).items()) {
        PodSpec pod = item instanceof Deployment d ? d.getSpec().getTemplate().getSpec()
            : item instanceof DaemonSet ds ? ds.getSpec().getTemplate().getSpec() : null;
        if (pod != null) {
          for (Container container : pod.getContainers()) {
            if (container.getName().equals(c.container())) {
              return new Manifested(pod, container);
            }
          }
        }
      }
    }
    throw new IllegalStateException("no container " + c.container() + " in " + c.manifest());
  }

  private static String env(Container container, String name) {
    return container.getEnv().stream().filter(e -> e.getName().equals(name)).map(EnvVar::getValue).findFirst().orElseThrow();
  }

  private static String mainClass(Path jar) throws IOException {
    try (JarFile file = new JarFile(jar.toFile())) {
      return file.getManifest().getMainAttributes().getValue("Main-Class");
    }
  }
}
