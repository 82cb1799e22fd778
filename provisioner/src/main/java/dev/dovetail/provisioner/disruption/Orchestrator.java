package dev.dovetail.provisioner.disruption;

import dev.dovetail.api.DovetailLabels;
import dev.dovetail.api.config.v1alpha1.ReplacementWindow;
import dev.dovetail.api.disruption.Drain;
import dev.dovetail.api.disruption.ReplacementWindows;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.WellKnownTaints;
import dev.dovetail.provisioner.cluster.Caches;
import dev.dovetail.provisioner.controller.Reconciliation;
import dev.dovetail.provisioner.controller.Result;
import dev.dovetail.provisioner.kube.Conditions;
import dev.dovetail.provisioner.kube.DisruptedTaint;
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
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The disruption controller's pass, as Karpenter's: build the candidates (every NodeClaim with its node
 * and pods) and each NodePool's budgets, then ask the {@link Method}s in order. A forceful method's
 * commands all run, outside budgets; the first graceful method with a command wins the pass, but its
 * command is only decided then: it is carried out after the validation delay (15 s), by a later pass that
 * computes it again for the candidates both times agree on. A graceful command that replaces taints its
 * candidates {@code karpenter.sh/disrupted}, launches the replacements (through the provisioner, under
 * its lock, so no provisioning pass plans on the same room meanwhile) and waits in the {@link Queue}
 * until they are Initialized; only then are the candidates deleted and drained by the termination
 * controller. A replacement that fails, or does not come within ten minutes, abandons the command and
 * takes the taints off again; taints no command accounts for (after a restart) are removed at the start
 * of a pass. Forceful commands launch and delete at once. The pass comes back when a decision is due for
 * validation, when a replacement it waits for changes (the operator triggers it), at the next time a
 * method said it would be due (an expiry), or after the period.
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
  private final Supplier<Optional<ReplacementWindow>> window;
  private final Supplier<Optional<String>> paused;
  /** A graceful command decided and waiting for its validation; touched only by the (single-threaded) pass. */
  private Decided decided;
  /** Replacement commands waiting for their replacements. */
  private final Queue queue = new Queue();
  /**
   * Claims this controller deleted or untainted whose change the caches may not show yet: they are
   * nobody's candidate and their taints are not stale until the caches catch up: by claim name, the
   * claim's and its node's resource versions when this controller wrote.
   */
  private final Map<String, List<String>> acted = new HashMap<>();
  /** The claims the queue waits for, readable from the informer threads (see {@link #awaits}). */
  private volatile Set<String> awaited = Set.of();

  /** A graceful method's command waiting for validation. */
  private record Decided(Method method, Set<String> candidates, Instant due) {
  }

  /**
   * @param window the replacement window in force (from the ClusterOrchestratorConfig), if any: the methods it governs wait outside it
   * @param paused why graceful disruption is paused now (a disabled ClusterOrchestratorConfig), if it is
   */
  public Orchestrator(Caches caches, Provisioner provisioner, Writer writer, Recorder events, KarpenterMetrics metrics, Clock clock,
      Duration validation, Supplier<Optional<ReplacementWindow>> window, Supplier<Optional<String>> paused, List<Method> methods) {
    this.window = window;
    this.paused = paused;
    this.validation = validation;
    this.caches = caches;
    this.provisioner = provisioner;
    this.writer = writer;
    this.events = events;
    this.metrics = metrics;
    this.clock = clock;
    this.methods = List.copyOf(methods);
  }

  /** Whether a command in flight waits for this claim to be Initialized (its changes should wake the pass). */
  public boolean awaits(String claim) {
    return awaited.contains(claim);
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
    List<Candidate> all = candidates();
    acted.keySet().retainAll(all.stream().filter(c -> versions(c).equals(acted.get(c.name()))).map(Candidate::name).collect(Collectors.toSet()));
    progress(all, now, context);
    List<Candidate> claims = all.stream().filter(c -> !acted.containsKey(c.name())).toList();
    removeStaleTaints(claims);
    methods.forEach(m -> m.beginPass(claims, now));
    Budgets budgets = budgets(all, now);
    Optional<Instant> validationDue = Optional.empty();
    Optional<ReplacementWindow> inForce = window.get();
    for (ReplacementWindows.Operation op : ReplacementWindows.Operation.values()) {
      metrics.replacementWindowOpen(op.name().toLowerCase(Locale.ROOT), ReplacementWindows.open(inForce.orElse(null), op, now));
    }
    Optional<Instant> windowDue = Optional.empty();
    for (Method method : methods) {
      List<Candidate> eligible = claims.stream().filter(c -> method.forceful() || !queue.holds(c.name()))
          .filter(c -> method.shouldDisrupt(c, now)).toList();
      metrics.disruptionEligible(method.reason().label(), eligible.size());
      Optional<String> pause = method.forceful() ? Optional.empty() : paused.get();
      if (pause.isPresent()) {
        if (decided != null && decided.method() == method) {
          failedValidation(method, "paused");
        }
        eligible.forEach(c -> events.normal(c.claim(), "DisruptionBlocked", pause.get()));
        continue;
      }
      Optional<String> closed = method.forceful() ? Optional.empty() : closed(inForce, method, now);
      if (closed.isPresent()) {
        if (decided != null && decided.method() == method) {
          failedValidation(method, "outside the replacement window");
        }
        eligible.forEach(c -> events.normal(c.claim(), "DisruptionBlocked", closed.get()));
        // The method may act once all its operations are open (roughly: the latest next opening); the pass comes back at the earliest such.
        Optional<Instant> opens = method.windows().stream().map(op -> ReplacementWindows.nextOpening(inForce.orElse(null), op, now))
            .reduce(Optional.of(now), (a, b) -> a.isEmpty() || b.isEmpty() ? Optional.empty() : Optional.of(a.get().isAfter(b.get()) ? a.get() : b.get()));
        windowDue = Stream.concat(windowDue.stream(), opens.stream()).min(Instant::compareTo);
        continue;
      }
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
        List<Command> proposed = evaluate(method, budgets, eligible, now);
        Set<String> names = names(proposed);
        blocked(method, budgets, eligible, names);
        if (!names.isEmpty()) {
          decided = new Decided(method, names, now.plus(validation));
          proposed.stream().filter(c -> c.decision() != Command.Decision.NO_OP && c.deleteCandidates() && counted(c.reason())).forEach(c -> {
            metrics.disruptionDecided(c.decision().label(), c.reason().label(), method.consolidationType());
            c.candidates().forEach(x -> metrics.nodeClaimDisruptionDecided(c.reason().label(), x.nodePool(), x.capacityType()));
          });
          context.atInfo(LOG).log("{}: would disrupt {}; checking again in {}", label(method), names, validation);
          if (!validation.isZero() && !validation.isNegative()) {
            validationDue = Optional.of(decided.due());
            break;
          }
        } else {
          continue;
        }
      }
      Set<String> agreed = decided != null && decided.method() == method ? decided.candidates() : null;
      List<Candidate> considered = agreed == null ? eligible : eligible.stream().filter(c -> agreed.contains(c.name())).toList();
      // Computing and launching go together: the simulation's room must still be free when the claims are made.
      List<Command> commands = provisioner.exclusive(() -> {
        method.beginPass(claims, now);  // a fresh read of the cluster, now that no provisioning pass can change it
        List<Command> computed = considered.isEmpty() ? List.<Command>of()
            : evaluate(method, method.forceful() ? Budgets.UNLIMITED : budgets, considered, now).stream()
                .filter(c -> c.decision() != Command.Decision.NO_OP).toList();
        return computed.stream().filter(c -> start(method, c, context)).toList();
      });
      if (agreed != null) {
        decided = null;
        if (commands.isEmpty()) {
          failedValidation(method, "the candidates changed");
          continue;
        }
      }
      if (!method.forceful() && !commands.isEmpty()) {
        break;
      }
    }
    awaited = queue.entries().stream().flatMap(e -> e.replacements().stream()).collect(Collectors.toUnmodifiableSet());
    Optional<Instant> due = Stream.of(validationDue.stream(), windowDue.stream(), methods.stream().map(m -> m.nextDue(claims, now)).flatMap(Optional::stream),
        queue.entries().stream().map(Queue.Entry::deadline), queue.nextSettled().stream()).flatMap(x -> x).min(Instant::compareTo);
    return due.map(d -> Result.requeue(Duration.between(now, d).isNegative() ? Duration.ZERO : Duration.between(now, d)))
        .orElseGet(Result::done);
  }

  /**
   * Starts a command: a graceful replacement taints its candidates, launches and joins the queue; any
   * other launches what it launches and deletes what it deletes at once. False when nothing was started
   * (its replacements could not be created).
   */
  private boolean start(Method method, Command command, Reconciliation context) {
    if (method.forceful() || command.decision() != Command.Decision.REPLACE) {
      launch(command, context);
      deleteCandidates(method, command, context);
      method.started(command, clock.instant());
      method.finished(command, true, clock.instant());
      return true;
    }
    List<Candidate> tainted = new ArrayList<>();
    for (Candidate c : command.candidates()) {
      try {
        if (c.node().isPresent() && DisruptedTaint.add(writer, c.node().get(), false)) {
          acted.put(c.name(), versions(c));
        }
        tainted.add(c);
        reason(c.claim(), Optional.of(command.reason()));
      } catch (RuntimeException e) {
        about(context, c).atInfo(LOG).log("{}: could not taint {} ({}); not disrupting now", label(method), c.name(), e.getMessage());
        untaint(tainted);
        return false;
      }
    }
    command.candidates().forEach(c -> events.normal(c.claim(), "DisruptionLaunching", "Launching NodeClaim: " + command.reason().budgetName()));
    List<String> created = launch(command, context);
    int wanted = command.replacements().map(p -> p.solution().newClaims().size()).orElse(0);
    if (created.size() < wanted) {
      // The candidates' pods need every replacement: with some missing, deleting the candidates would strand pods.
      context.atInfo(LOG).log("{}: {} of {} replacements could be created for {}; abandoning the command, taking the taints off", label(method),
          created.size(), wanted, names(List.of(command)));
      created.forEach(name -> writer.delete(NodeClaim.class, name));
      untaint(command.candidates());
      method.started(command, clock.instant());
      method.finished(command, false, clock.instant());
      return false;
    }
    queue.add(new Queue.Entry(command, method.consolidationType(), created, clock.instant()));
    method.started(command, clock.instant());
    command.candidates().forEach(c -> events.normal(c.claim(), "DisruptionWaitingReadiness", "Waiting on readiness to continue disruption"));
    return true;
  }

  /**
   * Moves the commands in flight on: all replacements Initialized → delete the candidates; a
   * replacement gone, or the wait over {@link Queue#TIMEOUT} → abandon (taints off, candidates stay).
   */
  private void progress(List<Candidate> claims, Instant now, Reconciliation context) {
    Map<String, Candidate> byName = new HashMap<>();
    claims.forEach(c -> byName.put(c.name(), c));
    for (Queue.Entry entry : queue.entries()) {
      List<NodeClaim> replacements = entry.replacements().stream().map(caches::nodeClaim).flatMap(Optional::stream)
          .filter(c -> !NodeClaims.deleting(c)).toList();
      List<Candidate> candidates = entry.candidates().stream().map(byName::get).filter(c -> c != null).toList();
      if (replacements.size() < entry.replacements().size() || now.isAfter(entry.deadline())) {
        context.atInfo(LOG).log("{}: abandoning the command for {}: {}", entry.consolidationType().isEmpty() ? entry.command().reason().label()
            : entry.consolidationType(), entry.candidates(), replacements.size() < entry.replacements().size() ? "a replacement is gone"
                : "replacements not initialized within " + Queue.TIMEOUT);
        untaint(candidates);
        queue.remove(entry, false);
        finished(entry, false, now);
        continue;
      }
      // A DisruptionReason write that failed when the command started is made good while it waits.
      candidates.stream().filter(c -> !acted.containsKey(c.name())).forEach(c -> reason(c.claim(), Optional.of(entry.command().reason())));
      if (replacements.stream().allMatch(c -> NodeClaims.isTrue(c, ConditionTypes.INITIALIZED))) {
        Command refreshed = new Command(entry.command().reason(), candidates, Optional.empty(), true);
        deleteCandidates(entry.consolidationType(), Command.Decision.REPLACE, refreshed, context);
        queue.remove(entry, true);
        finished(entry, true, now);
      }
    }
    queue.settle(byName::containsKey, now);
  }

  /** Tells the methods of the entry's reason that its command ended. */
  private void finished(Queue.Entry entry, boolean succeeded, Instant now) {
    methods.stream().filter(m -> m.reason() == entry.command().reason()).forEach(m -> m.finished(entry.command(), succeeded, now));
  }

  /**
   * Takes {@code karpenter.sh/disrupted} (and {@code DisruptionReason}) off nodes and claims no command or termination
   * accounts for (a command lost in a restart).
   */
  private void removeStaleTaints(List<Candidate> claims) {
    for (Candidate c : claims) {
      if (!NodeClaims.deleting(c.claim()) && !queue.isCandidate(c.name())
          && Conditions.get(NodeClaims.conditions(c.claim()), ConditionTypes.DISRUPTION_REASON).isPresent()
          && c.node().map(n -> !DisruptedTaint.present(n)).orElse(true)) {
        reason(c.claim(), Optional.empty());  // a command lost in a restart, its taint already gone
      }
      Node node = c.node().orElse(null);
      if (node == null || !DisruptedTaint.present(node) || NodeClaims.deleting(c.claim()) || queue.isCandidate(c.name())
          || NodeClaims.annotation(c.claim(), DovetailLabels.INTERRUPTION) != null || Boolean.TRUE.equals(node.getSpec().getUnschedulable())
          || node.getMetadata().getDeletionTimestamp() != null) {
        continue;
      }
      LOG.info("removing a stale {} taint from node {}", WellKnownTaints.DISRUPTED, node.getMetadata().getName());
      untaint(List.of(c));
    }
  }

  /**
   * Sets (or, with none, removes) the claim's {@code DisruptionReason} condition, as Karpenter marks the
   * candidates of a command under way; a write that fails is left to the next pass (it says nothing the
   * taint does not).
   */
  private void reason(NodeClaim claim, Optional<Reason> reason) {
    try {
      NodeClaims.trueOrAbsent(writer, claim, ConditionTypes.DISRUPTION_REASON, reason.map(r -> new NodeClaims.Why(r.budgetName(), "")),
          clock.instant());
    } catch (RuntimeException e) {
      LOG.info("could not {} the {} condition of {} ({}); the next pass looks again", reason.isPresent() ? "set" : "remove",
          ConditionTypes.DISRUPTION_REASON, claim.getMetadata().getName(), e.getMessage());
    }
  }

  private void untaint(List<Candidate> candidates) {
    for (Candidate c : candidates) {
      caches.nodeClaim(c.name()).ifPresent(claim -> reason(claim, Optional.empty()));
      c.node().flatMap(n -> caches.node(n.getMetadata().getName())).ifPresent(n -> {
        try {
          if (DisruptedTaint.remove(writer, n)) {
            acted.put(c.name(), versions(new Candidate(c.claim(), Optional.of(n), c.pods())));
          }
        } catch (RuntimeException e) {
          LOG.info("could not take the {} taint off {} ({}); the next pass tries again", WellKnownTaints.DISRUPTED, n.getMetadata().getName(),
              e.getMessage());
        }
      });
    }
  }

  /** The resource versions of the claim and its node as cached: they change once the caches have seen a write. */
  private static List<String> versions(Candidate c) {
    return List.of(String.valueOf(c.claim().getMetadata().getResourceVersion()),
        c.node().map(n -> String.valueOf(n.getMetadata().getResourceVersion())).orElse(""));
  }

  /** Why the window in force keeps the method from acting now, if it does. */
  private static Optional<String> closed(Optional<ReplacementWindow> window, Method method, Instant now) {
    return window.flatMap(w -> ReplacementWindows.closed(w, method.windows(), now));
  }

  private static String label(Method method) {
    return method.consolidationType().isEmpty() ? method.reason().label() : method.consolidationType();
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
      int disrupting = (int) ofPool.stream().filter(c -> NodeClaims.deleting(c.claim()) || queue.isCandidate(c.name())
          || c.node().map(n -> !Conditions.nodeReady(n)).orElse(false)).count();
      Map<Reason, Integer> byReason = new EnumMap<>(Reason.class);
      for (Reason r : List.of(Reason.EMPTY, Reason.DRIFTED, Reason.UNDERUTILIZED)) {
        int budget = BudgetRules.allowed(BudgetRules.of(pool), r, nodes, now);
        int left = budget == Integer.MAX_VALUE ? Integer.MAX_VALUE : Math.max(0, budget - disrupting);
        byReason.put(r, left);
        metrics.allowedDisruptions(name, r.budgetName().toLowerCase(Locale.ROOT), left == Integer.MAX_VALUE ? nodes : left);
        metrics.nodesConsumingBudgets(name, r.budgetName().toLowerCase(Locale.ROOT), disrupting);
      }
      allowed.put(name, byReason);
    }
    metrics.retainPools(allowed.keySet());
    return new Budgets(allowed);
  }

  /** Candidates a budget kept out of the method's commands (their pool's budget is used up): an Event on each says so. */
  private void blocked(Method method, Budgets budgets, List<Candidate> eligible, Set<String> chosen) {
    Map<String, Integer> chosenPerPool = new HashMap<>();
    eligible.stream().filter(c -> chosen.contains(c.name())).forEach(c -> chosenPerPool.merge(c.nodePool(), 1, Integer::sum));
    for (Candidate c : eligible) {
      if (!chosen.contains(c.name()) && chosenPerPool.getOrDefault(c.nodePool(), 0) >= budgets.allowed(c.nodePool(), method.reason())) {
        events.normal(c.claim(), "DisruptionBlocked", "No allowed disruptions for disruption reason " + method.reason().budgetName()
            + " due to blocking budget (NodePool " + c.nodePool() + ")");
      }
    }
  }

  /** The method's commands, timed ({@code karpenter_voluntary_disruption_decision_evaluation_duration_seconds}). */
  private List<Command> evaluate(Method method, Budgets budgets, List<Candidate> candidates, Instant now) {
    long start = System.nanoTime();
    try {
      return method.computeCommands(budgets, candidates, now);
    } finally {
      metrics.disruptionEvaluation(method.reason().label(), method.consolidationType(), Duration.ofNanos(System.nanoTime() - start));
    }
  }

  private void failedValidation(Method method, String why) {
    LOG.info("{}: dropping the decision: {}", label(method), why);
    metrics.disruptionFailedValidation(method.consolidationType());
    decided = null;
  }

  private static Set<String> names(List<Command> commands) {
    Set<String> names = new HashSet<>();
    commands.stream().filter(c -> c.decision() != Command.Decision.NO_OP).forEach(c -> c.candidates().forEach(x -> names.add(x.name())));
    return names;
  }

  private List<Candidate> candidates() {
    List<Candidate> out = new ArrayList<>();
    for (NodeClaim claim : caches.nodeClaims()) {
      Optional<Node> node = NodeClaims.providerId(claim).flatMap(caches::nodeByProviderId);
      out.add(new Candidate(claim, node, node.map(n -> caches.podsOn(n.getMetadata().getName())).orElse(List.of())));
    }
    return out;
  }

  private List<String> launch(Command command, Reconciliation context) {
    if (command.replacements().isEmpty() || command.replacements().get().solution().newClaims().isEmpty()) {
      return List.of();
    }
    List<String> created = provisioner.launch(command.replacements().get(), context);
    context.atInfo(LOG).log("{}: launched {} replacement NodeClaims {} for {}", command.reason().label(), created.size(), created,
        command.candidates().stream().map(Candidate::name).toList());
    return created;
  }

  private void deleteCandidates(Method method, Command command, Reconciliation context) {
    deleteCandidates(method.consolidationType(), command.decision(), command, context);
  }

  private void deleteCandidates(String consolidationType, Command.Decision decision, Command command, Reconciliation context) {
    if (!command.deleteCandidates()) {
      return;
    }
    if (counted(command.reason())) {
      metrics.disruptionDecision(decision.label(), command.reason().label(), consolidationType);
    }
    for (Candidate c : command.candidates()) {
      if (NodeClaims.deleting(c.claim())) {
        continue;
      }
      NodeClaim claim = c.claim();
      if (command.reason() == Reason.UNHEALTHY) {
        String condition = methods.stream().filter(Repair.class::isInstance).map(Repair.class::cast).findFirst()
            .flatMap(r -> c.node().flatMap(n -> r.unhealthy(n, clock.instant()))).map(p -> p.condition() + "=" + p.status()).orElse("");
        about(context, c).atInfo(LOG).log("NodeClaim {} is unhealthy ({}); repairing: deleting it without waiting for its drain", c.name(),
            condition);
        events.warning(claim, "NodeRepair", "Node " + c.node().map(n -> n.getMetadata().getName()).orElse("") + " unhealthy (" + condition
            + ") past its toleration; replacing it");
        metrics.nodeClaimUnhealthy(condition.contains("=") ? condition.substring(0, condition.indexOf('=')) : condition, c.nodePool(),
            c.capacityType(), claim.getStatus() == null ? "" : String.valueOf(claim.getStatus().imageID()));
        writer.patchMetadata(NodeClaim.class, c.name(), Map.of("annotations", Map.of(Drain.TERMINATION_TIMESTAMP, clock.instant().toString())));
      } else if (command.reason() == Reason.EXPIRED) {
        about(context, c).atInfo(LOG).log("NodeClaim {} expired (expireAfter {}, created {}); deleting it", c.name(), claim.getSpec().expireAfter(),
            claim.getMetadata().getCreationTimestamp());
        events.normal(claim, "Expired", "NodeClaim " + c.name() + " reached its expireAfter of " + claim.getSpec().expireAfter() + "; deleting it");
      } else {
        about(context, c).atInfo(LOG).log("disrupting NodeClaim {} ({})", c.name(), command.reason().label());
        events.normal(claim, "DisruptionTerminating", "Disrupting NodeClaim: " + command.reason().budgetName());
      }
      metrics.nodeClaimDisrupted(command.reason().label(), c.nodePool(), c.capacityType());
      writer.delete(NodeClaim.class, c.name());
      acted.put(c.name(), versions(c));
    }
  }

  /** Whether a command of this reason counts as a voluntary disruption decision (Karpenter's graceful methods' reasons). */
  private static boolean counted(Reason reason) {
    return reason != Reason.EXPIRED && reason != Reason.INTERRUPTED && reason != Reason.UNHEALTHY;
  }

  /** The pass's context with the candidate's NodeClaim, its NodePool and its Node. */
  private static Reconciliation about(Reconciliation context, Candidate c) {
    return context.with("NodeClaim", c.name()).with("NodePool", c.nodePool())
        .with("Node", c.node().map(n -> n.getMetadata().getName()).orElse(null));
  }
}
