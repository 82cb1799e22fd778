package dev.dovetail.extender;

import dev.dovetail.extender.decision.Decisions;
import dev.dovetail.extender.decision.Outcome;
import dev.dovetail.extender.protocol.BadRequest;
import dev.dovetail.extender.protocol.CandidateNode;
import dev.dovetail.extender.protocol.ExtenderArgs;
import dev.dovetail.extender.protocol.ExtenderArgsParser;
import dev.dovetail.extender.protocol.FilterResult;
import dev.dovetail.extender.protocol.HostPriority;
import dev.dovetail.extender.protocol.Responses;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler-extender protocol over HTTP: {@code POST <prefix>/filter} and {@code POST <prefix>/prioritize}.
 * Runs on the event loop (every decision is an in-memory lookup). Malformed input gets a 400 with an
 * {@code Error} message; an unexpected failure answers "no opinion" (every node passes, every score 0)
 * rather than a 5xx, so one bad pod never stalls scheduling.
 */
public final class ExtenderServer {
  public static final String PREFIX = "/scheduler";
  private static final Logger LOG = LoggerFactory.getLogger(ExtenderServer.class);
  /** Filter and prioritize calls made up at start: enough for the JIT's first tier to compile the path. */
  static final int WARM_UP_ROUNDS = 500;

  private final Decisions decisions;
  private final long maxBodyBytes;
  private final Timer filterTimer;
  private final Timer prioritizeTimer;
  private final Map<Outcome, Counter> filterOutcomes = new EnumMap<>(Outcome.class);
  private final Map<Outcome, Counter> prioritizeOutcomes = new EnumMap<>(Outcome.class);

  public ExtenderServer(Decisions decisions, MeterRegistry registry, long maxBodyBytes) {
    this.decisions = decisions;
    this.maxBodyBytes = maxBodyBytes;
    this.filterTimer = timer(registry, "filter");
    this.prioritizeTimer = timer(registry, "prioritize");
    for (Outcome o : Outcome.values()) {
      filterOutcomes.put(o, counter(registry, "filter", o));
      prioritizeOutcomes.put(o, counter(registry, "prioritize", o));
    }
  }

  private static Timer timer(MeterRegistry registry, String verb) {
    return Timer.builder("dovetail.extender.request.duration")
        .description("Server time of scheduler-extender calls, from the complete request body to the encoded reply")
        .tag("verb", verb)
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofNanos(10_000))
        .maximumExpectedValue(Duration.ofSeconds(1))
        .register(registry);
  }

  private static Counter counter(MeterRegistry registry, String verb, Outcome outcome) {
    return Counter.builder("dovetail.extender.decisions")
        .description("Scheduler-extender answers by verb and outcome")
        .tag("verb", verb).tag("outcome", outcome.label())
        .register(registry);
  }

  /**
   * Adds the extender routes to a router, after warming the request path (see {@link WarmUp}) so kube-scheduler's
   * first calls are answered as fast as the later ones.
   */
  public Router mount(Vertx vertx, Router router) {
    long start = System.nanoTime();
    WarmUp.requestPath(WARM_UP_ROUNDS);
    LOG.info("request path warmed up in {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    BodyHandler body = BodyHandler.create(false).setBodyLimit(maxBodyBytes);
    router.post(PREFIX + "/filter").handler(body).handler(this::filter);
    router.post(PREFIX + "/prioritize").handler(body).handler(this::prioritize);
    router.errorHandler(413, ctx -> reply(ctx, 413, Responses.error("request body is larger than the limit of " + maxBodyBytes
        + " bytes (--max-request-bytes); use nodeCacheCapable: true so kube-scheduler sends node names only")));
    router.errorHandler(400, ctx -> reply(ctx, 400, Responses.error("bad request: "
        + (ctx.failure() == null ? "unreadable body" : ctx.failure().getMessage()))));
    return router;
  }

  private void filter(RoutingContext ctx) {
    long start = System.nanoTime();
    serve(ctx, filterOutcomes, filterTimer, start, args -> {
      try {
        Decisions.FilterVerdict verdict = decisions.filter(args);
        filterOutcomes.get(verdict.outcome()).increment();
        reply(ctx, 200, Responses.filter(verdict.result(), args));
      } catch (RuntimeException e) {
        LOG.error("filter failed; passing every node: {}", e.toString(), e);
        reply(ctx, 200, Responses.filter(FilterResult.all(args.nodes()), args));
      } finally {
        filterTimer.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      }
    });
  }

  private void prioritize(RoutingContext ctx) {
    long start = System.nanoTime();
    serve(ctx, prioritizeOutcomes, prioritizeTimer, start, args -> {
      try {
        Decisions.PrioritizeVerdict verdict = decisions.prioritize(args);
        prioritizeOutcomes.get(verdict.outcome()).increment();
        reply(ctx, 200, Responses.prioritize(verdict.priorities()));
      } catch (RuntimeException e) {
        LOG.error("prioritize failed; scoring every node 0: {}", e.toString(), e);
        reply(ctx, 200, Responses.prioritize(args.nodes().stream().map(CandidateNode::name).map(n -> new HostPriority(n, 0)).toList()));
      } finally {
        prioritizeTimer.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      }
    });
  }

  /**
   * Parses the request (400 with the reason when it is bad) and hands it to {@code decide} on this event loop. When
   * the caches do not have the pod's owners yet (a new workload's first pods can outrun the watches), they are
   * read from the API server on a worker thread first: a guessed workload size would put the replica on the
   * wrong capacity type.
   */
  private void serve(RoutingContext ctx, Map<Outcome, Counter> outcomes, Timer timer, long start, Consumer<ExtenderArgs> decide) {
    ExtenderArgs args;
    try {
      args = ExtenderArgsParser.parse(bytes(ctx));
    } catch (BadRequest e) {
      outcomes.get(Outcome.BAD_REQUEST).increment();
      reply(ctx, 400, Responses.error(e.getMessage()));
      timer.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      return;
    } catch (RuntimeException e) {
      LOG.error("reading the request failed: {}", e.toString(), e);
      reply(ctx, 200, Responses.error("internal error: " + e));
      timer.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      return;
    }
    if (decisions.ownersKnown(args.pod())) {
      decide.accept(args);
      return;
    }
    ctx.vertx().executeBlocking(() -> {
      decisions.fetchOwners(args.pod());
      return null;
    }, false).onComplete(fetched -> decide.accept(args));
  }

  private static byte[] bytes(RoutingContext ctx) {
    Buffer body = ctx.body() == null ? null : ctx.body().buffer();
    return body == null ? new byte[0] : body.getBytes();
  }

  private static void reply(RoutingContext ctx, int status, byte[] json) {
    if (ctx.response().ended()) {
      return;
    }
    ctx.response().setStatusCode(status).putHeader("content-type", "application/json").end(Buffer.buffer(json));
  }
}
