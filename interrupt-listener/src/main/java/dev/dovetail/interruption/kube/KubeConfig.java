package dev.dovetail.interruption.kube;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * Where the API server is and how to authenticate: the in-cluster service account (the DaemonSet) or a
 * kubeconfig's current context (tests, the bench, running by hand) with a client certificate, a bearer
 * token or a token file, each as a file or inline data. Exec and auth-provider plugins are not run: the
 * agent is meant to run with its service account.
 */
public record KubeConfig(URI server, Optional<SSLContext> tls, Optional<BearerToken> token) {
  static final Path SERVICE_ACCOUNT = Path.of("/var/run/secrets/kubernetes.io/serviceaccount");

  /**
   * The kubeconfig given, else the in-cluster service account when running in a pod, else
   * {@code ~/.kube/config}.
   */
  public static KubeConfig load(Optional<Path> kubeconfig, Clock clock) {
    if (kubeconfig.isPresent()) {
      return fromKubeconfig(kubeconfig.get(), clock);
    }
    String host = System.getenv("KUBERNETES_SERVICE_HOST");
    if (host != null && !host.isBlank() && Files.isReadable(SERVICE_ACCOUNT.resolve("token"))) {
      return inCluster(host, Optional.ofNullable(System.getenv("KUBERNETES_SERVICE_PORT")).orElse("443"), SERVICE_ACCOUNT, clock);
    }
    Path home = Path.of(System.getProperty("user.home"), ".kube", "config");
    if (Files.isReadable(home)) {
      return fromKubeconfig(home, clock);
    }
    throw new IllegalArgumentException("no Kubernetes API server configured: not in a pod (KUBERNETES_SERVICE_HOST and a service "
        + "account token), no --kubeconfig and no " + home);
  }

  /** The pod's service account: the token (re-read as it rotates) and CA in {@code dir}. */
  public static KubeConfig inCluster(String host, String port, Path dir, Clock clock) {
    String authority = host.contains(":") ? "[" + host + "]" : host;  // IPv6
    return new KubeConfig(URI.create("https://" + authority + ":" + port),
        Optional.of(Tls.context(Optional.of(read(dir.resolve("ca.crt"))), Optional.empty(), Optional.empty(), false)),
        Optional.of(BearerToken.fromFile(dir.resolve("token"), clock)));
  }

  public static KubeConfig fromKubeconfig(Path file, Clock clock) {
    Object parsed = new Load(LoadSettings.builder().build()).loadFromString(read(file));
    return fromKubeconfig(asMap(parsed, "the kubeconfig " + file), file.toAbsolutePath().getParent(), clock);
  }

  /** @param base the kubeconfig's directory: relative file names in it are relative to it, as kubectl reads them */
  static KubeConfig fromKubeconfig(Map<String, Object> config, Path base, Clock clock) {
    String contextName = string(config, "current-context").orElseThrow(() -> new IllegalArgumentException("the kubeconfig has no current-context"));
    Map<String, Object> context = named(config, "contexts", contextName, "context");
    Map<String, Object> cluster = named(config, "clusters", string(context, "cluster")
        .orElseThrow(() -> new IllegalArgumentException("context " + contextName + " names no cluster")), "cluster");
    Map<String, Object> user = string(context, "user").map(u -> named(config, "users", u, "user")).orElse(Map.of());
    if (user.containsKey("exec") || user.containsKey("auth-provider")) {
      throw new IllegalArgumentException("the kubeconfig user of context " + contextName + " uses a credential plugin, which the agent "
          + "does not run: give it a client certificate or token, or run it in the cluster with its service account");
    }
    URI server = URI.create(string(cluster, "server").orElseThrow(() -> new IllegalArgumentException("cluster of context " + contextName + " has no server")));
    Optional<BearerToken> token = string(user, "token").map(BearerToken::of)
        .or(() -> string(user, "tokenFile").map(f -> BearerToken.fromFile(base.resolve(f), clock)));
    if (!"https".equals(server.getScheme())) {
      return new KubeConfig(server, Optional.empty(), token);
    }
    boolean insecure = Boolean.TRUE.equals(cluster.get("insecure-skip-tls-verify"));
    SSLContext tls = Tls.context(pem(cluster, "certificate-authority", base), pem(user, "client-certificate", base), pem(user, "client-key", base),
        insecure);
    return new KubeConfig(server, Optional.of(tls), token);
  }

  /** {@code <field>-data} (base64) or {@code <field>} (a file). */
  private static Optional<String> pem(Map<String, Object> section, String field, Path base) {
    Optional<String> data = string(section, field + "-data");
    if (data.isPresent()) {
      return Optional.of(new String(Base64.getMimeDecoder().decode(data.get()), StandardCharsets.US_ASCII));
    }
    return string(section, field).map(f -> read(base.resolve(f)));
  }

  private static Map<String, Object> named(Map<String, Object> config, String list, String name, String field) {
    Object entries = config.get(list);
    if (entries instanceof List<?> l) {
      for (Object e : l) {
        Map<String, Object> entry = asMap(e, list + " entry");
        if (name.equals(entry.get("name"))) {
          return entry.get(field) == null ? Map.of() : asMap(entry.get(field), list + " " + name);
        }
      }
    }
    throw new IllegalArgumentException("the kubeconfig has no " + list + " entry named " + name);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> asMap(Object o, String what) {
    if (o instanceof Map<?, ?> m) {
      return (Map<String, Object>) m;
    }
    throw new IllegalArgumentException(what + " is not a YAML mapping");
  }

  private static Optional<String> string(Map<String, Object> section, String field) {
    Object v = section.get(field);
    return v == null || v.toString().isBlank() ? Optional.empty() : Optional.of(v.toString());
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }
}
