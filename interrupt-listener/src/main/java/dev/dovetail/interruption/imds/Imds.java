package dev.dovetail.interruption.imds;

import dev.dovetail.runtime.Failures;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * An IMDSv2 client: a session token from {@code PUT /latest/api/token} (with its TTL header), sent with
 * every read, renewed ahead of its expiry and again whenever the service answers 401. Asynchronous
 * (the JDK's HTTP client), so a slow or silent metadata service never holds a thread; each request has a
 * timeout. A path that does not exist (404) reads as empty: that is how IMDS says "no notice".
 */
public final class Imds {
  static final String TOKEN_PATH = "/latest/api/token";
  static final String TOKEN_TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds";
  static final String TOKEN_HEADER = "X-aws-ec2-metadata-token";

  /** The metadata service failed or answered something other than 200/404. */
  public static final class ImdsException extends RuntimeException {
    private final int status;

    ImdsException(String message, int status) {
      super(message);
      this.status = status;
    }

    /** The HTTP status, or 0 when there was no answer. */
    public int status() {
      return status;
    }
  }

  private record Token(String value, Instant renewAt) {
  }

  private final HttpClient http;
  private final URI endpoint;
  private final Duration tokenTtl;
  private final Duration timeout;
  private final Clock clock;
  private volatile CompletableFuture<Token> token;

  public Imds(HttpClient http, URI endpoint, Duration tokenTtl, Duration timeout, Clock clock) {
    if (tokenTtl.toSeconds() < 1 || tokenTtl.toSeconds() > 21_600) {
      throw new IllegalArgumentException("the IMDSv2 token TTL must be 1 s to 6 h, was " + tokenTtl);
    }
    this.http = http;
    this.endpoint = endpoint;
    this.tokenTtl = tokenTtl;
    this.timeout = timeout;
    this.clock = clock;
  }

  /** Reads {@code /latest/meta-data/<path>}: its body, or empty when the path does not exist (404). */
  public CompletableFuture<Optional<String>> metadata(String path) {
    return read("/latest/meta-data/" + path, true);
  }

  private CompletableFuture<Optional<String>> read(String path, boolean retryOnUnauthorized) {
    return token().thenCompose(t -> http.sendAsync(HttpRequest.newBuilder(endpoint.resolve(path)).timeout(timeout)
            .header(TOKEN_HEADER, t.value()).GET().build(), HttpResponse.BodyHandlers.ofString())
        .thenCompose(response -> {
          int status = response.statusCode();
          if (status == 200) {
            return CompletableFuture.completedFuture(Optional.of(response.body()));
          }
          if (status == 404) {
            return CompletableFuture.completedFuture(Optional.<String>empty());
          }
          if (status == 401 && retryOnUnauthorized) {
            // The token expired early or the service restarted: one fresh token, one more try.
            invalidate(t);
            return read(path, false);
          }
          return CompletableFuture.failedFuture(new ImdsException("GET " + path + " answered " + status, status));
        }))
        .exceptionallyCompose(Imds::describe);
  }

  private CompletableFuture<Token> token() {
    CompletableFuture<Token> current = token;
    if (current != null && (!current.isDone() || (!current.isCompletedExceptionally() && clock.instant().isBefore(current.join().renewAt())))) {
      return current;
    }
    synchronized (this) {
      if (token == current) {
        token = fetchToken();
      }
      return token;
    }
  }

  private synchronized void invalidate(Token stale) {
    CompletableFuture<Token> current = token;
    if (current != null && current.isDone() && !current.isCompletedExceptionally() && current.join() == stale) {
      token = null;
    }
  }

  private CompletableFuture<Token> fetchToken() {
    Instant asked = clock.instant();
    return http.sendAsync(HttpRequest.newBuilder(endpoint.resolve(TOKEN_PATH)).timeout(timeout)
            .header(TOKEN_TTL_HEADER, Long.toString(tokenTtl.toSeconds())).PUT(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString())
        .thenApply(response -> {
          if (response.statusCode() != 200 || response.body().isBlank()) {
            throw new ImdsException("PUT " + TOKEN_PATH + " answered " + response.statusCode(), response.statusCode());
          }
          // Renew when 80 % of the lifetime has passed (at least a second early), before reads start failing.
          Duration margin = tokenTtl.dividedBy(5).compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : tokenTtl.dividedBy(5);
          return new Token(response.body().strip(), asked.plus(tokenTtl).minus(margin));
        });
  }

  private static <T> CompletableFuture<T> describe(Throwable error) {
    Throwable cause = Failures.cause(error);
    if (cause instanceof ImdsException) {
      return CompletableFuture.failedFuture(cause);
    }
    return CompletableFuture.failedFuture(new ImdsException("metadata service unreachable: " + cause, 0));
  }
}
