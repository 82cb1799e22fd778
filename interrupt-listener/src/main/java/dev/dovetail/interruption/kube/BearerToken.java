package dev.dovetail.interruption.kube;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * The bearer token sent to the API server. A token from a file is read again once {@link #RELOAD}
 * has passed and whenever the server answers 401: projected service-account tokens are rotated by the
 * kubelet (hourly by default) and a token held forever would stop working, as client-go's re-read each
 * minute avoids.
 */
public abstract class BearerToken {
  public static final Duration RELOAD = Duration.ofMinutes(1);

  /** The token to send now. */
  public abstract String value();

  /** The server refused the token: read it again before the next request, if it comes from a file. */
  public abstract void invalidate();

  public static BearerToken of(String token) {
    return new Fixed(token.strip());
  }

  public static BearerToken fromFile(Path file, Clock clock) {
    return new FromFile(file, clock);
  }

  static final class Fixed extends BearerToken {
    private final String token;

    Fixed(String token) {
      this.token = token;
    }

    @Override
    public String value() {
      return token;
    }

    @Override
    public void invalidate() {
      // nothing to read again
    }
  }

  static final class FromFile extends BearerToken {
    private final Path file;
    private final Clock clock;
    private String token;
    private Instant readAt = Instant.MIN;

    FromFile(Path file, Clock clock) {
      this.file = file;
      this.clock = clock;
      value();  // fail at start-up, not at the first notice, when the token cannot be read
    }

    @Override
    public synchronized String value() {
      Instant now = clock.instant();
      if (token == null || !now.isBefore(readAt.plus(RELOAD))) {
        try {
          String read = Files.readString(file).strip();
          if (read.isEmpty()) {
            throw new IllegalStateException("the token file " + file + " is empty");
          }
          token = read;
          readAt = now;
        } catch (IOException e) {
          if (token == null) {
            throw new UncheckedIOException("cannot read the token file " + file, e);
          }
          // Keep the last token: a rotation in progress must not fail the request outright.
        }
      }
      return token;
    }

    @Override
    public synchronized void invalidate() {
      readAt = Instant.MIN;
    }
  }
}
