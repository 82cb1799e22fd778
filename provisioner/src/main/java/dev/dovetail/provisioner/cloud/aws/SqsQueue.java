package dev.dovetail.provisioner.cloud.aws;

import dev.dovetail.runtime.Failures;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.SqsAsyncClientBuilder;
import software.amazon.awssdk.services.sqs.model.DeleteMessageRequest;
import software.amazon.awssdk.services.sqs.model.GetQueueUrlRequest;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageRequest;

/**
 * One SQS queue through the async SDK on its own Netty client (credentials from the default chain: IRSA,
 * Pod Identity, environment): long-poll receives and deletes, answered as plain values so callers need
 * not know the SDK. Answers complete on the SDK's threads.
 */
public final class SqsQueue implements AutoCloseable {
  /** A received message: its body, the handle that deletes it, and when it was sent, if SQS said. */
  public record Message(String id, String body, String receiptHandle, Optional<Instant> sentAt) {
  }

  private final SqsAsyncClient sqs;
  private final String queue;

  /**
   * @param queue     the queue's name or URL; a name is looked up in {@code region} (or the SDK's default)
   * @param longestWait the longest receive wait callers ask for (the client's read timeout goes beyond it)
   */
  public SqsQueue(String queue, Optional<String> region, Optional<URI> endpoint, Duration longestWait) {
    SqsAsyncClientBuilder builder = SqsAsyncClient.builder().httpClientBuilder(NettyNioAsyncHttpClient.builder()
        .connectionTimeout(Duration.ofSeconds(5)).readTimeout(longestWait.plusSeconds(10)));
    region.map(Region::of).or(() -> regionInUrl(queue)).ifPresent(builder::region);
    endpoint.ifPresent(builder::endpointOverride);
    this.sqs = builder.build();
    this.queue = queue;
  }

  /** {@code https://sqs.<region>.amazonaws.com/<account>/<name>} names its Region. */
  static Optional<Region> regionInUrl(String queue) {
    if (!queue.startsWith("https://sqs.")) {
      return Optional.empty();
    }
    String host = URI.create(queue).getHost();
    String[] parts = host.split("\\.");
    return parts.length >= 3 ? Optional.of(Region.of(parts[1])) : Optional.empty();
  }

  /** The queue's URL: as given, or looked up by name. */
  public CompletionStage<String> url() {
    if (queue.startsWith("http://") || queue.startsWith("https://")) {
      return CompletableFuture.completedFuture(queue);
    }
    return sqs.getQueueUrl(GetQueueUrlRequest.builder().queueName(queue).build()).thenApply(r -> r.queueUrl());
  }

  /** One long poll: up to {@code max} messages, waiting up to {@code wait} for the first. Cancel it to abandon it. */
  public CompletableFuture<List<Message>> receive(String url, int max, Duration wait, Duration visibilityTimeout) {
    ReceiveMessageRequest request = ReceiveMessageRequest.builder().queueUrl(url).maxNumberOfMessages(max)
        .waitTimeSeconds((int) wait.toSeconds()).visibilityTimeout((int) visibilityTimeout.toSeconds())
        .messageSystemAttributeNames(MessageSystemAttributeName.SENT_TIMESTAMP).build();
    return sqs.receiveMessage(request).thenApply(response -> response.messages().stream().map(m -> new Message(m.messageId(), m.body(),
        m.receiptHandle(), sentAt(m.attributes().get(MessageSystemAttributeName.SENT_TIMESTAMP)))).toList());
  }

  public CompletionStage<Void> delete(String url, String receiptHandle) {
    return sqs.deleteMessage(DeleteMessageRequest.builder().queueUrl(url).receiptHandle(receiptHandle).build()).thenApply(r -> null);
  }

  private static Optional<Instant> sentAt(String sent) {
    try {
      return sent == null ? Optional.empty() : Optional.of(Instant.ofEpochMilli(Long.parseLong(sent)));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** The failure without future wrappers; an SDK error that only wraps another (no message of its own) shows that one. */
  public static Throwable cause(Throwable error) {
    Throwable t = Failures.cause(error);
    return t instanceof SdkException && t.getCause() != null && t.getMessage() == null ? t.getCause() : t;
  }

  @Override
  public void close() {
    sqs.close();
  }
}
