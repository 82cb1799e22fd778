package dev.dovetail.provisioner.disruption;

import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.provisioner.cluster.Caches;
import dev.dovetail.provisioner.controller.Reconciliation;
import dev.dovetail.provisioner.controller.Result;
import dev.dovetail.provisioner.kube.Writer;
import dev.dovetail.provisioner.metrics.KarpenterMetrics;
import dev.dovetail.provisioner.nodeclaim.NodeClaims;
import dev.dovetail.provisioner.provisioning.Provisioner;
import dev.dovetail.runtime.Recorder;
import io.fabric8.kubernetes.api.model.Node;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The disruption controller's pass, as Karpenter's: build the candidates (every NodeClaim with its node
 * and pods), then ask the {@link Method}s in order. A forceful method's commands all run; the first
 * graceful method with a command wins the pass. A command launches its replacements first (through the
 * provisioner, under its lock, so no provisioning pass plans on the same room meanwhile) and only then
 * deletes its candidates, which the termination controller drains. The pass comes back at the next time
 * a method said it would be due (an expiry), or after the period.
 */
public final class Orchestrator {
  private static final Logger LOG = LoggerFactory.getLogger(Orchestrator.class);
  /** How often the disruption controller looks when nothing triggers it (Karpenter polls every 10 s). */
  public static final Duration PERIOD = Duration.ofSeconds(10);

  private final Caches caches;
  private final Provisioner provisioner;
  private final Writer writer;
  private final Recorder events;
  private final KarpenterMetrics metrics;
  private final Clock clock;
  private final List<Method> methods;

  public Orchestrator(Caches caches, Provisioner provisioner, Writer writer, Recorder events, KarpenterMetrics metrics, Clock clock,
      List<Method> methods) {
    this.caches = caches;
    this.provisioner = provisioner;
    this.writer = writer;
    this.events = events;
    this.metrics = metrics;
    this.clock = clock;
    this.methods = List.copyOf(methods);
  }

  /** The methods in the order they are asked. */
  public List<Method> methods() {
    return methods;
  }

  public CompletionStage<Result> reconcile(Reconciliation context) {
    if (!caches.synced()) {
      return Result.requeue(Duration.ofSeconds(1));
    }
    Instant now = clock.instant();
    List<Candidate> claims = candidates();
    for (Method method : methods) {
      List<Candidate> eligible = claims.stream().filter(c -> method.shouldDisrupt(c, now)).toList();
      if (eligible.isEmpty()) {
        continue;
      }
      // Computing and launching go together: the simulation's room must still be free when the claims are made.
      List<Command> commands = provisioner.exclusive(() -> {
        List<Command> computed = method.computeCommands(Budgets.UNLIMITED, eligible, now);
        computed.forEach(c -> launch(c, context));
        return computed;
      });
      commands.forEach(c -> deleteCandidates(c, context));
      if (!method.forceful() && commands.stream().anyMatch(c -> c.decision() != Command.Decision.NO_OP)) {
        break;
      }
    }
    Optional<Instant> due = methods.stream().map(m -> m.nextDue(claims, now)).flatMap(Optional::stream).min(Instant::compareTo);
    return due.map(d -> Result.requeue(Duration.between(now, d).isNegative() ? Duration.ZERO : Duration.between(now, d)))
        .orElseGet(Result::done);
  }

  private List<Candidate> candidates() {
    List<Candidate> out = new ArrayList<>();
    for (NodeClaim claim : caches.nodeClaims()) {
      Optional<Node> node = NodeClaims.providerId(claim).flatMap(caches::nodeByProviderId);
      out.add(new Candidate(claim, node, node.map(n -> caches.podsOn(n.getMetadata().getName())).orElse(List.of())));
    }
    return out;
  }

  private void launch(Command command, Reconciliation context) {
    if (command.replacements().isEmpty() || command.replacements().get().solution().newClaims().isEmpty()) {
      return;
    }
    List<String> created = provisioner.launch(command.replacements().get());
    context.atInfo(LOG).log("{}: launched {} replacement NodeClaims {} for {}", command.reason().label(), created.size(), created,
        command.candidates().stream().map(Candidate::name).toList());
  }

  private void deleteCandidates(Command command, Reconciliation context) {
    if (!command.deleteCandidates()) {
      return;
    }
    for (Candidate c : command.candidates()) {
      if (NodeClaims.deleting(c.claim())) {
        continue;
      }
      NodeClaim claim = c.claim();
      if (command.reason() == Reason.EXPIRED) {
        context.atInfo(LOG).log("NodeClaim {} expired (expireAfter {}, created {}); deleting it", c.name(), claim.getSpec().expireAfter(),
            claim.getMetadata().getCreationTimestamp());
        events.normal(claim, "Expired", "NodeClaim " + c.name() + " reached its expireAfter of " + claim.getSpec().expireAfter() + "; deleting it");
      } else {
        context.atInfo(LOG).log("disrupting NodeClaim {} ({})", c.name(), command.reason().label());
        events.normal(claim, "DisruptionTerminating", "Disrupting NodeClaim: " + command.reason().budgetName());
      }
      metrics.nodeClaimDisrupted(command.reason().label(), c.nodePool(), c.capacityType());
      writer.delete(NodeClaim.class, c.name());
    }
  }
}
