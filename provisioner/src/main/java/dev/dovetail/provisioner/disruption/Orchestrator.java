package dev.dovetail.provisioner.disruption;

import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.provisioner.cluster.Caches;
import dev.dovetail.provisioner.controller.Reconciliation;
import dev.dovetail.provisioner.controller.Result;
import dev.dovetail.provisioner.kube.Conditions;
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
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The disruption controller's pass, as Karpenter's: build the candidates (every NodeClaim with its node
 * and pods) and each NodePool's budgets, then ask the {@link Method}s in order. A forceful method's
 * commands all run, outside budgets; the first graceful method with a command wins the pass, but its
 * command is only decided then: it is carried out after the validation delay (15 s), by a later pass that
 * computes it again and keeps only the candidates both times agree on. A command launches its
 * replacements first (through the provisioner, under its lock, so no provisioning pass plans on the same
 * room meanwhile) and only then deletes its candidates, which the termination controller drains. The pass
 * comes back when a decision is due for validation, at the next time a method said it would be due (an
 * expiry), or after the period.
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
  private final Duration validation;
  /** A graceful command decided and waiting for its validation; touched only by the (single-threaded) pass. */
  private Decided decided;

  /** A graceful method's command waiting for validation. */
  private record Decided(Method method, Set<String> candidates, Instant due) {
  }

  public Orchestrator(Caches caches, Provisioner provisioner, Writer writer, Recorder events, KarpenterMetrics metrics, Clock clock,
      Duration validation, List<Method> methods) {
    this.validation = validation;
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
    Budgets budgets = budgets(claims, now);
    Optional<Instant> validationDue = Optional.empty();
    for (Method method : methods) {
      List<Candidate> eligible = claims.stream().filter(c -> method.shouldDisrupt(c, now)).toList();
      metrics.disruptionEligible(method.reason().label(), eligible.size());
      if (!method.forceful()) {
        if (decided != null && decided.method() != method) {
          continue;  // another method's decision is waiting: one graceful command at a time
        }
        if (decided != null && now.isBefore(decided.due())) {
          validationDue = Optional.of(decided.due());
          break;
        }
      }
      if (eligible.isEmpty()) {
        if (decided != null && decided.method() == method) {
          failedValidation(method, "no candidate is eligible any more");
        }
        continue;
      }
      if (!method.forceful() && decided == null) {
        Set<String> names = names(method.computeCommands(budgets, eligible, now));
        blocked(method, eligible, names);
        if (!names.isEmpty()) {
          decided = new Decided(method, names, now.plus(validation));
          context.atInfo(LOG).log("{}: would disrupt {}; checking again in {}", method.reason().label(), names, validation);
          if (!validation.isZero() && !validation.isNegative()) {
            validationDue = Optional.of(decided.due());
            break;
          }
        } else {
          continue;
        }
      }
      Set<String> agreed = decided != null && decided.method() == method ? decided.candidates() : null;
      // Computing and launching go together: the simulation's room must still be free when the claims are made.
      List<Command> commands = provisioner.exclusive(() -> {
        List<Command> computed = method.computeCommands(method.forceful() ? Budgets.UNLIMITED : budgets, eligible, now);
        if (agreed != null) {
          computed = computed.stream().map(c -> keep(c, agreed)).filter(c -> c.decision() != Command.Decision.NO_OP).toList();
        }
        computed.forEach(c -> launch(c, context));
        return computed;
      });
      if (agreed != null) {
        decided = null;
        if (commands.isEmpty()) {
          failedValidation(method, "the candidates changed");
          continue;
        }
      }
      commands.forEach(c -> deleteCandidates(c, context));
      if (!method.forceful() && commands.stream().anyMatch(c -> c.decision() != Command.Decision.NO_OP)) {
        break;
      }
    }
    Optional<Instant> due = Stream.concat(validationDue.stream(), methods.stream().map(m -> m.nextDue(claims, now)).flatMap(Optional::stream))
        .min(Instant::compareTo);
    return due.map(d -> Result.requeue(Duration.between(now, d).isNegative() ? Duration.ZERO : Duration.between(now, d)))
        .orElseGet(Result::done);
  }

  /**
   * Each NodePool's budgets now, per graceful reason: the minimum of the active budgets that apply, scaled
   * against the pool's initialized nodes, less the pool's nodes already being disrupted (deleting, or
   * not Ready), never below zero.
   */
  private Budgets budgets(List<Candidate> claims, Instant now) {
    Map<String, Map<Reason, Integer>> allowed = new HashMap<>();
    for (NodePool pool : caches.nodePools()) {
      String name = pool.getMetadata().getName();
      List<Candidate> ofPool = claims.stream().filter(c -> name.equals(c.nodePool())).toList();
      int nodes = (int) ofPool.stream().filter(c -> NodeClaims.isTrue(c.claim(), ConditionTypes.INITIALIZED)).count();
      int disrupting = (int) ofPool.stream().filter(c -> NodeClaims.deleting(c.claim()) || c.node().map(n -> !Conditions.nodeReady(n)).orElse(false))
          .count();
      Map<Reason, Integer> byReason = new EnumMap<>(Reason.class);
      for (Reason r : List.of(Reason.EMPTY, Reason.DRIFTED, Reason.UNDERUTILIZED)) {
        int budget = BudgetRules.allowed(BudgetRules.of(pool), r, nodes, now);
        int left = budget == Integer.MAX_VALUE ? Integer.MAX_VALUE : Math.max(0, budget - disrupting);
        byReason.put(r, left);
        metrics.allowedDisruptions(name, r.budgetName().toLowerCase(Locale.ROOT), left == Integer.MAX_VALUE ? nodes : left);
      }
      allowed.put(name, byReason);
    }
    return new Budgets(allowed);
  }

  /** Candidates a budget kept out of the method's commands: an Event on each says so. */
  private void blocked(Method method, List<Candidate> eligible, Set<String> chosen) {
    for (Candidate c : eligible) {
      if (!chosen.contains(c.name())) {
        events.normal(c.claim(), "DisruptionBlocked", "No allowed disruptions for disruption reason " + method.reason().budgetName()
            + " due to blocking budget (NodePool " + c.nodePool() + ")");
      }
    }
  }

  private void failedValidation(Method method, String why) {
    LOG.info("{}: dropping the decision: {}", method.reason().label(), why);
    metrics.disruptionFailedValidation(method.reason().label());
    decided = null;
  }

  private static Set<String> names(List<Command> commands) {
    Set<String> names = new HashSet<>();
    commands.stream().filter(c -> c.decision() != Command.Decision.NO_OP).forEach(c -> c.candidates().forEach(x -> names.add(x.name())));
    return names;
  }

  /** The command with only the candidates the first decision named (the others appeared since; they wait for their own decision). */
  private static Command keep(Command command, Set<String> agreed) {
    return new Command(command.reason(), command.candidates().stream().filter(c -> agreed.contains(c.name())).toList(), command.replacements(),
        command.deleteCandidates());
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
    if (command.reason() != Reason.EXPIRED && command.reason() != Reason.INTERRUPTED) {
      metrics.disruptionDecision(command.decision().name().toLowerCase(Locale.ROOT), command.reason().label());
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
