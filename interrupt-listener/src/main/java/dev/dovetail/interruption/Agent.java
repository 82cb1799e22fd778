package dev.dovetail.interruption;

import dev.dovetail.api.disruption.DrainPod;
import dev.dovetail.api.interruption.NodeMarks;
import dev.dovetail.interruption.imds.NoticeReader;
import dev.dovetail.interruption.imds.NoticeReader.Observation;
import dev.dovetail.interruption.imds.Notices;
import dev.dovetail.interruption.kube.Events;
import dev.dovetail.runtime.events.EventRecorder;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-node loop: look at IMDS every {@code pollInterval} (with jitter, so a fleet of agents does not
 * poll in step), and act once per notice. A spot interruption taints ({@code karpenter.sh/disrupted} and
 * ours) and cordons the node at once, marks its NodeClaim for a replacement, and drains it before the
 * instance-action time. A rebalance recommendation taints (and, as configured, cordons or drains).
 * Scheduled maintenance cordons and drains ahead of its window. IMDS errors are logged and retried; the
 * agent never stops over them, and readiness says whether IMDS answers.
 */
public final class Agent implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Agent.class);

  /** What a rebalance recommendation does to the node. */
  public enum RebalanceAction { taint, cordon, drain }

  /**
   * @param drainMargin how long before an instance-action time the drain must be done (past it, what is left is deleted)
   * @param evictionLead after a spot interruption notice, how long before the drain's deadline evictions start at the
   *     latest when the node has a NodeClaim: until then, the drain waits for the provisioner to say the pods have
   *     Ready room elsewhere (see {@link NodeMarks#evictionsStartBy}); zero drains at once
   */
  public record Settings(String nodeName, Duration pollInterval, RebalanceAction rebalanceAction, Duration drainMargin,
      Duration maintenanceLead, Duration evictionLead) {
  }

  /** A drain that waits for its NodeClaim's replacement: which claim, and the drain's deadline. */
  private record Hold(String claim, Instant deadline) {
  }

  private final NoticeReader reader;
  private final NodeActions node;
  private final Drainer drainer;
  private final EventRecorder events;
  private final Settings settings;
  private final Clock clock;
  private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "interrupt-listener");
    t.setDaemon(true);
    return t;
  });
  private final ScheduledExecutorService drainLoop = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "drain");
    t.setDaemon(true);
    return t;
  });
  private final Set<String> handled = new HashSet<>();
  private final AtomicReference<Instant> lastAnswer = new AtomicReference<>(Instant.EPOCH);
  private final AtomicReference<Optional<Instant>> drainDeadline = new AtomicReference<>(null);
  /** The spot interruption's drain waits for the replacement while this is set; cleared once evictions start. */
  private final AtomicReference<Hold> hold = new AtomicReference<>();
  private final MeterRegistry registry;
  private final Timer noticeToTaint;
  private final Timer drainDuration;
  private volatile boolean closed;
  /** Touched only by the drain thread. */
  private boolean holdLogged;

  public Agent(NoticeReader reader, NodeActions node, Drainer drainer, EventRecorder events, Settings settings, MeterRegistry registry, Clock clock) {
    this.reader = reader;
    this.node = node;
    this.drainer = drainer;
    this.events = events;
    this.settings = settings;
    this.clock = clock;
    this.registry = registry;
    this.noticeToTaint = Timer.builder("dovetail.interruption.action.duration").tag("action", "taint")
        .description("From seeing a notice in IMDS to the node being tainted and cordoned").register(registry);
    this.drainDuration = Timer.builder("dovetail.interruption.action.duration").tag("action", "drain")
        .description("From seeing a notice in IMDS to the node being empty").register(registry);
    Gauge.builder("dovetail.imds.reachable", this, a -> a.imdsReachable() ? 1 : 0).description("1 while IMDS answers").register(registry);
  }

  public Agent start() {
    loop.schedule(this::poll, 0, TimeUnit.MILLISECONDS);
    return this;
  }

  /** IMDS answered within the last three polls. */
  public boolean imdsReachable() {
    return Duration.between(lastAnswer.get(), clock.instant()).compareTo(settings.pollInterval().multipliedBy(3).plusSeconds(2)) < 0;
  }

  private void poll() {
    if (closed) {
      return;
    }
    // Acted on in the agent's own thread: the node calls block, and must not hold the HTTP client's few threads.
    reader.observe().whenCompleteAsync((o, error) -> {
      try {
        if (error != null) {
          LOG.warn("reading IMDS failed: {}", error.toString());
        } else {
          handle(o);
        }
      } catch (RuntimeException e) {
        LOG.warn("acting on a notice failed (trying again next poll): {}", e.toString(), e);
      } finally {
        if (!closed) {
          long base = settings.pollInterval().toMillis();
          long jitter = ThreadLocalRandom.current().nextLong(-base / 4, base / 4 + 1);
          try {
            loop.schedule(this::poll, Math.max(100, base + jitter), TimeUnit.MILLISECONDS);
          } catch (RejectedExecutionException stopping) {
            // closed meanwhile
          }
        }
      }
    }, loop);
  }

  void handle(Observation o) {
    if (o.reachable()) {
      lastAnswer.set(o.at());
    }
    if (!o.problems().isEmpty()) {
      LOG.warn("IMDS: {}", String.join("; ", o.problems()));
    }
    // The milder notice first: a spot interruption seen in the same look then has the last word.
    o.rebalance().ifPresent(this::onRebalance);
    o.spot().ifPresent(this::onSpotInterruption);
    for (Notices.ScheduledEvent e : o.scheduled()) {
      if (e.pending() && !e.notBefore().isAfter(clock.instant().plus(settings.maintenanceLead()))) {
        onMaintenance(e);
      }
    }
  }

  private boolean first(String key, String messageType) {
    if (!handled.add(key)) {
      return false;
    }
    Counter.builder("karpenter.interruption.received.messages").tag("message_type", messageType)
        .description("Count of interruption notices received, by type").register(registry).increment();
    return true;
  }

  private void onSpotInterruption(Notices.SpotInterruption notice) {
    // Once per instance: a reclaim is final, and some IMDS implementations restamp the notice on every read.
    // A later read can only bring the drain's deadline forward.
    if (!first("spot", "spot_interrupted")) {
      startDrain(Optional.of(notice.time().minus(settings.drainMargin())), System.nanoTime());
      return;
    }
    long t0 = System.nanoTime();
    node.taint(NodeMarks.spotInterruptionTaints(notice.action()), true);
    noticeToTaint.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
    LOG.info("spot interruption notice ({} at {}): node {} tainted and cordoned", notice.action(), notice.time(), settings.nodeName());
    Optional<String> claim = node.markNodeClaim(NodeMarks.notice(NodeMarks.SPOT_INTERRUPTION, notice.time()));
    node.node().map(Events::involved).ifPresent(n -> events.warning(n, "SpotInterrupted", "Spot interruption notice: the instance will " + notice.action()
        + " at " + notice.time() + "; draining" + claim.map(c -> ", NodeClaim " + c + " marked for replacement").orElse("")));
    Instant deadline = notice.time().minus(settings.drainMargin());
    if (claim.isPresent() && settings.evictionLead().compareTo(Duration.ZERO) > 0 && drainDeadline.get() == null) {
      // Not when a drain (ahead of maintenance, or of a rebalance) is evicting already.
      hold.compareAndSet(null, new Hold(claim.get(), deadline));
    }
    startDrain(Optional.of(deadline), t0);
  }

  private void onRebalance(Notices.Rebalance notice) {
    // Once: a recommendation stays published (and some IMDS implementations restamp its time on every read).
    if (!first("rebalance", "rebalance_recommendation")) {
      return;
    }
    RebalanceAction action = settings.rebalanceAction();
    node.taint(Map.of(NodeActions.REBALANCE_TAINT, "true"), action != RebalanceAction.taint);
    Optional<String> claim = node.markNodeClaim(NodeMarks.notice(NodeMarks.REBALANCE_RECOMMENDATION, notice.noticeTime()));
    LOG.info("rebalance recommendation at {}: node {} tainted{}", notice.noticeTime(), settings.nodeName(),
        action == RebalanceAction.taint ? "" : " and cordoned");
    node.node().map(Events::involved).ifPresent(n -> events.normal(n, "RebalanceRecommendation", "EC2 recommends rebalancing this instance (elevated "
        + "interruption risk): node tainted" + (action == RebalanceAction.taint ? "" : " and cordoned")
        + claim.map(c -> "; NodeClaim " + c + " marked for replacement").orElse("")));
    if (action == RebalanceAction.drain) {
      startDrain(Optional.empty(), System.nanoTime());
    }
  }

  private void onMaintenance(Notices.ScheduledEvent event) {
    if (!first("maintenance@" + event.eventId() + "@" + event.notBefore(), "scheduled_change")) {
      return;
    }
    node.taint(Map.of(NodeActions.INTERRUPTION_TAINT, event.code()), true);
    LOG.info("scheduled maintenance {} from {}: node {} cordoned, draining", event.code(), event.notBefore(), settings.nodeName());
    node.node().map(Events::involved).ifPresent(n -> events.warning(n, "ScheduledMaintenance", "Scheduled " + event.code() + " from " + event.notBefore()
        + ": cordoned and draining"));
    startDrain(Optional.of(event.notBefore().minus(settings.drainMargin())), System.nanoTime());
  }

  /** Drains in the background, one round a second, until the node is empty; the earliest deadline wins. */
  private void startDrain(Optional<Instant> deadline, long startedNanos) {
    Optional<Instant> previous = drainDeadline.getAndUpdate(d -> d == null ? deadline
        : d.isEmpty() ? deadline : deadline.isEmpty() ? d : Optional.of(d.get().isBefore(deadline.get()) ? d.get() : deadline.get()));
    if (previous != null) {
      return;  // a drain is running; it now works to the earliest deadline
    }
    drainLoop.execute(new Runnable() {
      @Override
      public void run() {
        if (closed) {
          return;
        }
        try {
          if (holding()) {
            drainLoop.schedule(this, 1, TimeUnit.SECONDS);
            return;
          }
          Drainer.Round round = drainer.round(drainDeadline.get());
          if (round.remaining() == 0) {
            drainDuration.record(System.nanoTime() - startedNanos, TimeUnit.NANOSECONDS);
            LOG.info("node {} drained", settings.nodeName());
            node.node().map(Events::involved).ifPresent(n -> events.normal(n, "Drained", "All pods evicted ahead of the interruption"));
            return;
          }
          if (round.refused() > 0) {
            LOG.info("{} evictions refused (PodDisruptionBudget); {} pods left on node {}", round.refused(), round.remaining(),
                settings.nodeName());
          }
        } catch (RuntimeException e) {
          LOG.warn("drain round failed (retrying): {}", e.toString());
        }
        try {
          drainLoop.schedule(this, 1, TimeUnit.SECONDS);
        } catch (RejectedExecutionException stopping) {
          // closed meanwhile
        }
      }
    });
  }

  /**
   * Whether the drain still waits for the replacement of the node's pods (see {@link NodeMarks#holdEvictions}):
   * they keep running meanwhile. Once it stops waiting, it never waits again.
   */
  private boolean holding() {
    Hold h = hold.get();
    if (h == null) {
      return false;
    }
    Optional<String> ready;
    List<DrainPod> pods;
    try {
      ready = node.replacementReady(h.claim());
      pods = drainer.remaining();
    } catch (RuntimeException e) {
      // Without an answer, the time limit alone (the pods' grace periods unknown): never a hold past it.
      LOG.warn("reading NodeClaim {} or the node's pods failed: {}", h.claim(), e.toString());
      ready = Optional.empty();
      pods = List.of();
    }
    if (NodeMarks.holdEvictions(clock.instant(), h.deadline(), settings.evictionLead(), pods, ready.orElse(null))) {
      if (!holdLogged) {
        holdLogged = true;
        LOG.info("node {}: holding evictions until NodeClaim {} has Ready room for its {} pods, or {} at the latest", settings.nodeName(),
            h.claim(), pods.size(), NodeMarks.evictionsStartBy(h.deadline(), settings.evictionLead(), pods));
      }
      return true;
    }
    hold.set(null);
    String why = ready.isPresent() ? "its pods have Ready room elsewhere (NodeClaim " + h.claim() + ")"
        : "the latest start for evicting before the interruption came without a replacement ready";
    LOG.info("node {}: evicting now: {}", settings.nodeName(), why);
    node.node().map(Events::involved).ifPresent(n -> events.normal(n, "DrainStarted", "Evicting pods ahead of the interruption: " + why));
    return false;
  }

  @Override
  public void close() {
    closed = true;
    loop.shutdownNow();
    drainLoop.shutdownNow();
  }

  /** For the readiness probe: why the agent is not ready, if it is not. */
  public Optional<String> notReady() {
    return imdsReachable() ? Optional.empty() : Optional.of("IMDS has not answered in the last " + settings.pollInterval().multipliedBy(3).plusSeconds(2));
  }

}
