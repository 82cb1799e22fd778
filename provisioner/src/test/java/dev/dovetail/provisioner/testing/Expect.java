package dev.dovetail.provisioner.testing;

import static org.awaitility.Awaitility.await;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.awaitility.core.ConditionTimeoutException;

/**
 * Waiting for the provisioner, with Awaitility: each helper polls the API server until what it expects
 * holds (or {@link #TIMEOUT} runs out, failing the test with what it was waiting for) and returns the
 * object as it then is.
 */
public final class Expect {
  /** Far above what any step takes on a loaded 2-core machine; a passing test waits only as long as it must. */
  public static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final Duration POLL = Duration.ofMillis(100);

  private Expect() {
  }

  /** Polls {@code read} until {@code until} holds for its value; returns that value. */
  public static <T> T eventually(String what, Supplier<T> read, Predicate<T> until) {
    return eventually(what, read, until, String::valueOf);
  }

  /** As {@link #eventually(String, Supplier, Predicate)}; a timeout reports the last value read as {@code describe} puts it. */
  public static <T> T eventually(String what, Supplier<T> read, Predicate<T> until, Function<T, String> describe) {
    AtomicReference<T> last = new AtomicReference<>();
    try {
      return await(what).atMost(TIMEOUT).pollInterval(POLL).pollDelay(Duration.ZERO).ignoreExceptions().until(() -> {
        T value = read.get();
        last.set(value);
        return value;
      }, until);
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("waited " + TIMEOUT.toSeconds() + " s for " + what + "; last seen: "
          + (last.get() == null ? "nothing" : describe.apply(last.get())));
    }
  }

  /** A claim in a line: deletion, finalizers, provider ID, node and conditions. */
  public static String describe(NodeClaim claim) {
    StringBuilder out = new StringBuilder(claim.getMetadata().getName());
    if (claim.getMetadata().getDeletionTimestamp() != null) {
      out.append(" (deleted ").append(claim.getMetadata().getDeletionTimestamp()).append(')');
    }
    out.append(" finalizers=").append(claim.getMetadata().getFinalizers());
    if (claim.getStatus() != null) {
      out.append(" providerID=").append(claim.getStatus().providerID()).append(" node=").append(claim.getStatus().nodeName());
      if (claim.getStatus().conditions() != null) {
        claim.getStatus().conditions().forEach(c -> out.append(' ').append(c.type()).append('=').append(c.status()).append('/').append(c.reason())
            .append(c.message() == null || c.message().isEmpty() ? "" : " (" + c.message() + ")"));
      }
    }
    return out.toString();
  }

  /** The claim, once {@code until} holds for it. */
  public static NodeClaim claim(KubernetesClient client, String name, String what, Predicate<NodeClaim> until) {
    return eventually("NodeClaim " + name + ": " + what, () -> client.resources(NodeClaim.class).withName(name).get(),
        c -> c != null && until.test(c), Expect::describe);
  }

  /** The claim, once it has the condition with this status (and, unless null, reason). */
  public static NodeClaim condition(KubernetesClient client, String claim, String type, Condition.Status status, String reason) {
    return claim(client, claim, type + "=" + status + (reason == null ? "" : "/" + reason),
        c -> has(c.getStatus() == null ? null : c.getStatus().conditions(), type, status, reason));
  }

  /** The claim, once it is Launched. */
  public static NodeClaim launched(KubernetesClient client, String claim) {
    return condition(client, claim, ConditionTypes.LAUNCHED, Condition.Status.True, null);
  }

  /** Creates the node class and returns it once the provisioner has found it Ready. */
  public static EC2NodeClass readyNodeClass(KubernetesClient client, EC2NodeClass nodeClass) {
    client.resource(nodeClass).create();
    String name = nodeClass.getMetadata().getName();
    return eventually("EC2NodeClass " + name + " Ready", () -> client.resources(EC2NodeClass.class).withName(name).get(),
        c -> c != null && c.getStatus() != null && has(c.getStatus().conditions(), ConditionTypes.READY, Condition.Status.True, null));
  }

  /** Until the cluster-scoped object is gone (finalizers and all). */
  public static <T extends HasMetadata> void gone(KubernetesClient client, Class<T> type, String name) {
    eventually(type.getSimpleName() + " " + name + " gone", () -> Optional.ofNullable(client.resources(type).withName(name).get()),
        Optional::isEmpty);
  }

  /** The first event with this reason about the named object, once there is one. */
  public static Event event(KubernetesClient client, String namespace, String involvedName, String reason) {
    return eventually("event " + reason + " on " + involvedName + " in " + namespace, () -> events(client, namespace, involvedName).stream()
        .filter(e -> reason.equals(e.getReason())).findFirst(), Optional::isPresent).orElseThrow();
  }

  /** Events about the named object (cluster-scoped objects' events are in {@code default}). */
  public static List<Event> events(KubernetesClient client, String namespace, String involvedName) {
    return client.v1().events().inNamespace(namespace).withField("involvedObject.name", involvedName).list().getItems();
  }

  public static Optional<Condition> get(List<Condition> conditions, String type) {
    return conditions == null ? Optional.empty() : conditions.stream().filter(c -> c.type().equals(type)).findFirst();
  }

  public static Optional<Condition> condition(NodeClaim claim, String type) {
    return get(claim.getStatus() == null ? null : claim.getStatus().conditions(), type);
  }

  /** Whether the conditions hold {@code type} with this status and (unless null) reason. */
  public static boolean has(List<Condition> conditions, String type, Condition.Status status, String reason) {
    return get(conditions, type).filter(c -> c.status() == status && (reason == null || Objects.equals(reason, c.reason()))).isPresent();
  }
}
