package dev.dovetail.interruption;

import java.io.IOException;
import java.net.Authenticator;
import java.net.CookieHandler;
import java.net.ProxySelector;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * The agent's own HTTP client with a record of every exchange it made with the API server: what the agent
 * really asked and what the server really answered (an eviction refused with 429, say), without a proxy.
 */
final class RecordingHttpClient extends HttpClient {
  /** One request and its answer; {@code body} is the response body as text when the agent read it as bytes or text. */
  record Exchange(String method, String path, int status, String body, long answeredAtNanos) {
  }

  private final HttpClient delegate;
  private final List<Exchange> exchanges = new CopyOnWriteArrayList<>();

  RecordingHttpClient(HttpClient delegate) {
    this.delegate = delegate;
  }

  List<Exchange> exchanges() {
    return List.copyOf(exchanges);
  }

  private <T> HttpResponse<T> record(HttpRequest request, HttpResponse<T> response) {
    Object body = response.body();
    String text = body instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8) : body instanceof String s ? s : "";
    exchanges.add(new Exchange(request.method(), request.uri().getRawPath(), response.statusCode(), text, System.nanoTime()));
    return response;
  }

  @Override
  public <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler) throws IOException, InterruptedException {
    return record(request, delegate.send(request, handler));
  }

  @Override
  public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
    return delegate.sendAsync(request, handler).thenApply(r -> record(request, r));
  }

  @Override
  public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request, HttpResponse.BodyHandler<T> handler,
      HttpResponse.PushPromiseHandler<T> push) {
    return delegate.sendAsync(request, handler, push).thenApply(r -> record(request, r));
  }

  @Override
  public Optional<CookieHandler> cookieHandler() {
    return delegate.cookieHandler();
  }

  @Override
  public Optional<Duration> connectTimeout() {
    return delegate.connectTimeout();
  }

  @Override
  public Redirect followRedirects() {
    return delegate.followRedirects();
  }

  @Override
  public Optional<ProxySelector> proxy() {
    return delegate.proxy();
  }

  @Override
  public SSLContext sslContext() {
    return delegate.sslContext();
  }

  @Override
  public SSLParameters sslParameters() {
    return delegate.sslParameters();
  }

  @Override
  public Optional<Authenticator> authenticator() {
    return delegate.authenticator();
  }

  @Override
  public Version version() {
    return delegate.version();
  }

  @Override
  public Optional<Executor> executor() {
    return delegate.executor();
  }
}
