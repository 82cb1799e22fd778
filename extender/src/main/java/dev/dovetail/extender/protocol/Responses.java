package dev.dovetail.extender.protocol;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Writes replies in the wire format kube-scheduler decodes: the canonical capitalised keys, every
 * top-level key present, {@code NodeNames} never null in node-cache mode (null would mean "no node fits").
 */
public final class Responses {
  private static final JsonFactory JSON = JsonFactory.builder().build();

  private Responses() {
  }

  public static byte[] filter(FilterResult result, ExtenderArgs args) {
    int estimate = 128 + 24 * result.passed().size() + 160 * result.failedAndUnresolvable().size();
    return write(estimate, g -> {
      g.writeStartObject();
      if (args.nodeCacheMode()) {
        g.writeNullField("Nodes");
        g.writeArrayFieldStart("NodeNames");
        for (CandidateNode n : result.passed()) {
          g.writeString(n.name());
        }
        g.writeEndArray();
      } else {
        g.writeObjectFieldStart("Nodes");
        g.writeArrayFieldStart("items");
        for (CandidateNode n : result.passed()) {
          // The node object exactly as kube-scheduler sent it.
          g.writeRawValue(new String(args.body(), n.rawOffset(), n.rawLength(), StandardCharsets.UTF_8));
        }
        g.writeEndArray();
        g.writeEndObject();
        g.writeNullField("NodeNames");
      }
      map(g, "FailedNodes", result.failed());
      map(g, "FailedAndUnresolvableNodes", result.failedAndUnresolvable());
      g.writeStringField("Error", result.error());
      g.writeEndObject();
    });
  }

  /**
   * The scores of every candidate node as kube-scheduler reads them, shifted so the lowest is 0, and the
   * zeros left out. kube-scheduler adds weight × score to each listed host and nothing to an absent one;
   * adding the same amount to every candidate changes no ranking, so subtracting the lowest score decides
   * exactly as the full list would, while the many hosts that share it (the empty nodes of a large cluster,
   * say) drop out of the reply kube-scheduler decodes on every cycle.
   *
   * @param priorities one entry for every candidate node of the request
   */
  public static byte[] prioritize(List<HostPriority> priorities) {
    int floor = Integer.MAX_VALUE;
    for (HostPriority h : priorities) {
      floor = Math.min(floor, h.score());
    }
    int lowest = priorities.isEmpty() ? 0 : floor;
    int listed = 0;
    for (HostPriority h : priorities) {
      listed += h.score() > lowest ? 1 : 0;
    }
    return write(16 + 40 * listed, g -> {
      g.writeStartArray();
      for (HostPriority h : priorities) {
        if (h.score() == lowest) {
          continue;
        }
        g.writeStartObject();
        g.writeStringField("Host", h.host());
        g.writeNumberField("Score", h.score() - lowest);
        g.writeEndObject();
      }
      g.writeEndArray();
    });
  }

  /** A filter-shaped error reply: kube-scheduler reads {@code Error}, humans read the message. */
  public static byte[] error(String message) {
    return write(128 + message.length(), g -> {
      g.writeStartObject();
      g.writeNullField("Nodes");
      g.writeNullField("NodeNames");
      g.writeNullField("FailedNodes");
      g.writeNullField("FailedAndUnresolvableNodes");
      g.writeStringField("Error", message);
      g.writeEndObject();
    });
  }

  private static void map(JsonGenerator g, String name, Map<String, String> entries) throws IOException {
    g.writeObjectFieldStart(name);
    for (Map.Entry<String, String> e : entries.entrySet()) {
      g.writeStringField(e.getKey(), e.getValue());
    }
    g.writeEndObject();
  }

  @FunctionalInterface
  private interface Body {
    void write(JsonGenerator g) throws IOException;
  }

  /** Encodes into a buffer sized for the reply up front, so large replies are not copied as they grow. */
  private static byte[] write(int sizeHint, Body body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(sizeHint);
    try (JsonGenerator g = JSON.createGenerator(out, JsonEncoding.UTF8)) {
      body.write(g);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
