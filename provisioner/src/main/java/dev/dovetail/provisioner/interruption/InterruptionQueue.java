package dev.dovetail.provisioner.interruption;

import dev.dovetail.provisioner.cloud.aws.SqsQueue;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Queue mode, as Karpenter users know it: EventBridge rules put EC2 interruption events on an SQS queue
 * and the leader reads them. One long poll at a time (up to ten messages, 20 s wait) on the SDK's Netty
 * client, whose event loop is its own; each message is handled on the worker executor (the handler calls
 * the API server) and deleted once handled, unparsable or foreign ones too. A message whose handling
 * failed is left in the queue and comes back after its visibility timeout. Receive errors back off and
 * retry; nothing stops the loop but {@link #close()}.
 */
public final class InterruptionQueue implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(InterruptionQueue.class);
  static final int MAX_MESSAGES = 10;
  static final int WAIT_SECONDS = 20;

  /**
   * Where the queue is: its name or URL ({@code --interruption-queue}), and for a name the Region to
   * look it up in. An endpoint override points the client elsewhere than AWS (a local SQS in tests).
   */
  public record Settings(String queue, Optional<String> region, Optional<URI> endpoint, Duration visibilityTimeout) {
    public Settings {
      if (queue == null || queue.isBlank()) {
        throw new IllegalArgumentException("the interruption queue needs a name or URL");
      }
      if (visibilityTimeout.isNegative() || visibilityTimeout.toSeconds() > 43_200) {
        throw new IllegalArgumentException("visibility timeout must be between 0s and 12h");
      }
    }

    /** The queue, through the AWS SDK. */
    public SqsQueue open() {
      return new SqsQueue(queue, region, endpoint, Duration.ofSeconds(WAIT_SECONDS));
    }
  }

  private final SqsQueue messages;
  private final Settings settings;
  private final Function<InterruptionMessage, InterruptionHandler.Outcome> handler;
  private final Executor workers;
  private final ScheduledExecutorService timer;
  private final Clock clock;
  private final MeterRegistry registry;
  private final Counter deleted;
  private final Timer queueDuration;
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile String queueUrl;
  private volatile CompletableFuture<?> inFlight = CompletableFuture.completedFuture(null);

  public InterruptionQueue(SqsQueue messages, Settings settings, Function<InterruptionMessage, InterruptionHandler.Outcome> handler,
      Executor workers, ScheduledExecutorService timer, MeterRegistry registry, Clock clock) {
    this.messages = messages;
    this.settings = settings;
    this.handler = handler;
    this.workers = workers;
    this.timer = timer;
    this.clock = clock;
    this.registry = registry;
    this.deleted = Counter.builder("karpenter.interruption.deleted.messages")
        .description("Count of messages deleted from the SQS queue.").register(registry);
    this.queueDuration = Timer.builder("karpenter.interruption.message.queue.duration")
        .description("Amount of time an interruption message is on the queue before it is processed by karpenter.")
        .publishPercentileHistogram().register(registry);
  }

  public InterruptionQueue start() {
    resolveUrl().whenComplete((url, error) -> {
      if (error != null) {
        LOG.error("interruption queue {} not found or not reachable (retrying in 30s): {}", settings.queue(), cause(error).toString());
        retryLater(this::start, Duration.ofSeconds(30));
        return;
      }
      queueUrl = url;
      LOG.info("reading interruption events from {}", url);
      poll();
    });
    return this;
  }

  private CompletionStage<String> resolveUrl() {
    return messages.url();
  }

  private void poll() {
    if (closed.get()) {
      return;
    }
    CompletableFuture<List<SqsQueue.Message>> receive = messages.receive(queueUrl, MAX_MESSAGES, Duration.ofSeconds(WAIT_SECONDS),
        settings.visibilityTimeout());
    inFlight = receive;
    receive.whenComplete((response, error) -> {
      if (error != null) {
        if (!closed.get()) {
          LOG.warn("receiving from the interruption queue failed (retrying in 5s): {}", cause(error).toString());
          retryLater(this::poll, Duration.ofSeconds(5));
        }
        return;
      }
      List<CompletableFuture<Void>> handled = response.stream().map(this::process).toList();
      CompletableFuture.allOf(handled.toArray(CompletableFuture[]::new)).whenComplete((ok, ignored) -> poll());
    });
  }

  /** Handles one message on a worker, then deletes it; never completes exceptionally. */
  private CompletableFuture<Void> process(SqsQueue.Message message) {
    return CompletableFuture.supplyAsync(() -> {
      InterruptionMessage parsed = InterruptionMessage.parse(message.body());
      Counter.builder("karpenter.interruption.received.messages").tag("message_type", parsed.kind().messageType())
          .description("Count of messages received from the SQS queue. Broken down by message type and whether the message was actionable.")
          .register(registry).increment();
      if (parsed.kind() == InterruptionMessage.Kind.NO_OP) {
        LOG.info("ignoring queue message {}: {}", message.id(), parsed.detail());
      }
      return handler.apply(parsed);
    }, workers).thenCompose(outcome -> messages.delete(queueUrl, message.receiptHandle())).handle((ok, error) -> {
          if (error != null) {
            LOG.warn("queue message {} not handled (it comes back after the visibility timeout): {}", message.id(),
                cause(error).toString());
            return null;
          }
          deleted.increment();
          message.sentAt().ifPresent(sent -> queueDuration.record(Duration.between(sent, clock.instant()).abs()));
          return null;
        });
  }

  private void retryLater(Runnable action, Duration delay) {
    if (closed.get()) {
      return;
    }
    try {
      timer.schedule(action, delay.toMillis(), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException stopping) {
      // shutting down
    }
  }

  /** The failure without future wrappers; an SDK error that only wraps another (no message of its own) shows that one. */
  private static Throwable cause(Throwable error) {
    return SqsQueue.cause(error);
  }

  /** Stops reading; a message being handled finishes, a pending long poll is abandoned. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      inFlight.cancel(true);
    }
  }
}
