package dev.dovetail.interruption.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KubeConfigTest {
  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.US_ASCII));
  }

  @Test
  void readsTheCurrentContextWithInlineCertificatesAndAToken(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("config"), """
        apiVersion: v1
        kind: Config
        current-context: b
        clusters:
        - name: a
          cluster: {server: "https://a.example:6443"}
        - name: b
          cluster:
            server: https://127.0.0.1:32764/
            certificate-authority-data: %s
        contexts:
        - name: a
          context: {cluster: a, user: a}
        - name: b
          context: {cluster: b, user: b}
        users:
        - name: a
          user: {token: wrong}
        - name: b
          user:
            token: abc
            client-certificate-data: %s
            client-key-data: %s
        """.formatted(b64(TlsTest.resource("rsa.crt")), b64(TlsTest.resource("ec.crt")), b64(TlsTest.resource("ec.key"))));
    KubeConfig config = KubeConfig.fromKubeconfig(file, Clock.systemUTC());
    assertThat(config.server()).hasToString("https://127.0.0.1:32764/");
    assertThat(config.tls()).isPresent();
    assertThat(config.token()).hasValueSatisfying(t -> assertThat(t.value()).isEqualTo("abc"));
  }

  @Test
  void resolvesFilesRelativeToTheKubeconfigAsKubectlDoes(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("ca.crt"), TlsTest.resource("rsa.crt"));
    Files.writeString(dir.resolve("admin.crt"), TlsTest.resource("rsa.crt"));
    Files.writeString(dir.resolve("admin.key"), TlsTest.resource("rsa.key"));
    Files.writeString(dir.resolve("token"), "from-file");
    Path file = Files.writeString(dir.resolve("config"), """
        current-context: c
        clusters: [{name: c, cluster: {server: "https://k:443", certificate-authority: ca.crt}}]
        contexts: [{name: c, context: {cluster: c, user: u}}]
        users: [{name: u, user: {client-certificate: admin.crt, client-key: admin.key, tokenFile: token}}]
        """);
    KubeConfig config = KubeConfig.fromKubeconfig(file, Clock.systemUTC());
    assertThat(config.tls()).isPresent();
    assertThat(config.token()).hasValueSatisfying(t -> assertThat(t.value()).isEqualTo("from-file"));
  }

  @Test
  void plainHttpNeedsNoTlsAndPluginsAreRefusedClearly(@TempDir Path dir) throws Exception {
    Path plain = Files.writeString(dir.resolve("plain"), """
        current-context: c
        clusters: [{name: c, cluster: {server: "http://127.0.0.1:8080"}}]
        contexts: [{name: c, context: {cluster: c}}]
        """);
    KubeConfig config = KubeConfig.fromKubeconfig(plain, Clock.systemUTC());
    assertThat(config.tls()).isEmpty();
    assertThat(config.token()).isEmpty();

    Path exec = Files.writeString(dir.resolve("exec"), """
        current-context: c
        clusters: [{name: c, cluster: {server: "https://eks"}}]
        contexts: [{name: c, context: {cluster: c, user: u}}]
        users: [{name: u, user: {exec: {command: aws}}}]
        """);
    assertThatThrownBy(() -> KubeConfig.fromKubeconfig(exec, Clock.systemUTC())).hasMessageContaining("credential plugin");
    Path noContext = Files.writeString(dir.resolve("none"), "clusters: []\n");
    assertThatThrownBy(() -> KubeConfig.fromKubeconfig(noContext, Clock.systemUTC())).hasMessageContaining("no current-context");
  }

  @Test
  void inClusterUsesTheServiceAccountTokenAndCa(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("ca.crt"), TlsTest.resource("rsa.crt"));
    Files.writeString(dir.resolve("token"), "sa-token");
    KubeConfig config = KubeConfig.inCluster("10.96.0.1", "443", dir, Clock.systemUTC());
    assertThat(config.server()).hasToString("https://10.96.0.1:443");
    assertThat(config.token()).hasValueSatisfying(t -> assertThat(t.value()).isEqualTo("sa-token"));
    assertThat(KubeConfig.inCluster("fd00::1", "443", dir, Clock.systemUTC()).server()).hasToString("https://[fd00::1]:443");
  }
}
