package dev.dovetail.interruption.kube;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The API server refused a request (its HTTP status, the Status reason such as {@code Conflict} or
 * {@code TooManyRequests}, and its message) or did not answer ({@code status} 0).
 */
public final class KubeApiException extends RuntimeException {
  private final int status;
  private final String reason;

  public KubeApiException(String message, int status, String reason) {
    super(message);
    this.status = status;
    this.reason = reason;
  }

  /** From an error response: its Status object's message when there is one, else the start of the body. */
  static KubeApiException of(String method, String path, int status, byte[] body) {
    String message = "";
    String reason = "";
    try {
      JsonNode s = KubeApi.JSON.readTree(body);
      message = s.path("message").asText("");
      reason = s.path("reason").asText("");
    } catch (IOException | RuntimeException notJson) {
      String text = new String(body, StandardCharsets.UTF_8).strip();
      message = text.length() > 200 ? text.substring(0, 200) + "..." : text;
    }
    return new KubeApiException(method + " " + path + " answered " + status + (message.isEmpty() ? "" : ": " + message), status, reason);
  }

  /** The HTTP status, or 0 when the server did not answer. */
  public int status() {
    return status;
  }

  /** The Status reason (e.g. {@code NotFound}, {@code Conflict}), empty if the server gave none. */
  public String reason() {
    return reason;
  }

  public boolean notFound() {
    return status == 404;
  }

  public boolean conflict() {
    return status == 409;
  }

  /** Worth trying again: no answer, a server error, or 429 Too Many Requests. */
  boolean worthRetrying() {
    return status == 0 || status >= 500 || status == 429;
  }
}
