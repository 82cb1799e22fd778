package dev.dovetail.extender.protocol;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.dovetail.api.distribution.PodFacts;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Streams kube-scheduler's {@code ExtenderArgs} out of the request body, reading only what decisions
 * need and skipping the rest without building objects: top-level keys case-insensitively (Go decodes
 * them that way; kube-scheduler writes {@code Pod}, {@code Nodes}, {@code NodeNames}), {@code null}
 * tolerated for each, unknown keys ignored.
 */
public final class ExtenderArgsParser {
  private static final JsonFactory JSON = JsonFactory.builder().build();

  private ExtenderArgsParser() {
  }

  public static ExtenderArgs parse(byte[] body) {
    if (body == null || body.length == 0) {
      throw new BadRequest("empty request body: expected ExtenderArgs JSON with Pod and NodeNames or Nodes");
    }
    try (JsonParser p = JSON.createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new BadRequest("request body must be a JSON object (ExtenderArgs)");
      }
      PodFacts pod = null;
      List<CandidateNode> nodes = null;
      List<CandidateNode> names = null;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String key = p.currentName().toLowerCase(Locale.ROOT);
        JsonToken value = p.nextToken();
        switch (key) {
          case "pod" -> pod = value == JsonToken.VALUE_NULL ? null : pod(p);
          case "nodes" -> nodes = value == JsonToken.VALUE_NULL ? null : nodeList(p);
          case "nodenames" -> names = value == JsonToken.VALUE_NULL ? null : nodeNames(p);
          default -> p.skipChildren();
        }
      }
      if (p.nextToken() != null) {
        throw new BadRequest("unexpected content after the ExtenderArgs object");
      }
      if (pod == null) {
        throw new BadRequest("Pod is missing or null");
      }
      if (names != null) {
        return new ExtenderArgs(pod, names, true, body);
      }
      if (nodes != null) {
        return new ExtenderArgs(pod, nodes, false, body);
      }
      throw new BadRequest("neither NodeNames nor Nodes is set");
    } catch (JsonParseException e) {
      throw new BadRequest("malformed JSON at line " + e.getLocation().getLineNr() + " column " + e.getLocation().getColumnNr()
          + ": " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new BadRequest("unreadable request body: " + e.getMessage(), e);
    }
  }

  private static void expect(JsonParser p, JsonToken token, String what) {
    if (p.currentToken() != token) {
      throw new BadRequest(what + " must be " + (token == JsonToken.START_OBJECT ? "an object" : token == JsonToken.START_ARRAY
          ? "an array" : "a string") + ", not " + describe(p.currentToken()));
    }
  }

  private static String describe(JsonToken t) {
    return t == null ? "the end of input" : switch (t) {
      case START_OBJECT -> "an object";
      case START_ARRAY -> "an array";
      case VALUE_STRING -> "a string";
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
      case VALUE_TRUE, VALUE_FALSE -> "a boolean";
      case VALUE_NULL -> "null";
      default -> t.name();
    };
  }

  private static String string(JsonParser p, String what) throws IOException {
    if (p.currentToken() == JsonToken.VALUE_NULL) {
      return null;
    }
    expect(p, JsonToken.VALUE_STRING, what);
    return p.getText();
  }

  private static List<CandidateNode> nodeNames(JsonParser p) throws IOException {
    expect(p, JsonToken.START_ARRAY, "NodeNames");
    List<CandidateNode> out = new ArrayList<>(1024);
    while (p.nextToken() != JsonToken.END_ARRAY) {
      String name = string(p, "each of NodeNames");
      if (name == null || name.isEmpty()) {
        throw new BadRequest("NodeNames contains an empty name");
      }
      out.add(CandidateNode.named(name));
    }
    return out;
  }

  /** A NodeList: only items[].metadata.name and labels are read; each item's bytes are remembered. */
  private static List<CandidateNode> nodeList(JsonParser p) throws IOException {
    expect(p, JsonToken.START_OBJECT, "Nodes");
    List<CandidateNode> out = new ArrayList<>();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String key = p.currentName();
      p.nextToken();
      if (!key.equals("items") || p.currentToken() == JsonToken.VALUE_NULL) {
        p.skipChildren();
        continue;
      }
      expect(p, JsonToken.START_ARRAY, "Nodes.items");
      while (p.nextToken() != JsonToken.END_ARRAY) {
        expect(p, JsonToken.START_OBJECT, "each of Nodes.items");
        int start = (int) p.currentTokenLocation().getByteOffset();
        String name = null;
        Map<String, String> labels = Map.of();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String field = p.currentName();
          p.nextToken();
          if (field.equals("metadata") && p.currentToken() == JsonToken.START_OBJECT) {
            while (p.nextToken() == JsonToken.FIELD_NAME) {
              String m = p.currentName();
              p.nextToken();
              switch (m) {
                case "name" -> name = string(p, "Nodes.items[].metadata.name");
                case "labels" -> labels = stringMap(p, "Nodes.items[].metadata.labels");
                default -> p.skipChildren();
              }
            }
          } else {
            p.skipChildren();
          }
        }
        int end = (int) p.currentLocation().getByteOffset();
        if (name == null || name.isEmpty()) {
          throw new BadRequest("a node in Nodes.items has no metadata.name");
        }
        out.add(new CandidateNode(name, labels, start, end - start));
      }
    }
    return out;
  }

  private static Map<String, String> stringMap(JsonParser p, String what) throws IOException {
    if (p.currentToken() == JsonToken.VALUE_NULL) {
      return Map.of();
    }
    expect(p, JsonToken.START_OBJECT, what);
    Map<String, String> out = new HashMap<>();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String k = p.currentName();
      p.nextToken();
      out.put(k, string(p, what + "." + k));
    }
    return out;
  }

  /** The pod fields the distribution needs; everything else (status, containers, volumes) is skipped. */
  private static PodFacts pod(JsonParser p) throws IOException {
    expect(p, JsonToken.START_OBJECT, "Pod");
    String name = null;
    String namespace = null;
    String uid = null;
    boolean mirror = false;
    Optional<PodFacts.Owner> owner = Optional.empty();
    boolean pinned = false;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      p.nextToken();
      if (field.equals("metadata") && p.currentToken() == JsonToken.START_OBJECT) {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String m = p.currentName();
          p.nextToken();
          switch (m) {
            case "name" -> name = string(p, "Pod.metadata.name");
            case "namespace" -> namespace = string(p, "Pod.metadata.namespace");
            case "uid" -> uid = string(p, "Pod.metadata.uid");
            case "annotations" -> mirror = stringMap(p, "Pod.metadata.annotations").containsKey(PodFacts.MIRROR_ANNOTATION);
            case "ownerReferences" -> owner = controller(p);
            default -> p.skipChildren();
          }
        }
      } else if (field.equals("spec") && p.currentToken() == JsonToken.START_OBJECT) {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String s = p.currentName();
          p.nextToken();
          switch (s) {
            case "nodeSelector" -> pinned |= stringMap(p, "Pod.spec.nodeSelector").keySet().stream().anyMatch(PodFacts::isCapacityTypeKey);
            case "affinity" -> pinned |= affinityPinsCapacityType(p);
            default -> p.skipChildren();
          }
        }
      } else {
        p.skipChildren();
      }
    }
    if (name == null || name.isEmpty()) {
      throw new BadRequest("Pod.metadata.name is missing");
    }
    return new PodFacts(namespace == null || namespace.isEmpty() ? "default" : namespace, name, uid == null ? "" : uid, owner, mirror, pinned);
  }

  private static Optional<PodFacts.Owner> controller(JsonParser p) throws IOException {
    if (p.currentToken() == JsonToken.VALUE_NULL) {
      return Optional.empty();
    }
    expect(p, JsonToken.START_ARRAY, "Pod.metadata.ownerReferences");
    Optional<PodFacts.Owner> found = Optional.empty();
    while (p.nextToken() != JsonToken.END_ARRAY) {
      expect(p, JsonToken.START_OBJECT, "each of Pod.metadata.ownerReferences");
      String kind = null;
      String name = null;
      String uid = null;
      boolean controller = false;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String f = p.currentName();
        p.nextToken();
        switch (f) {
          case "kind" -> kind = string(p, "ownerReferences[].kind");
          case "name" -> name = string(p, "ownerReferences[].name");
          case "uid" -> uid = string(p, "ownerReferences[].uid");
          case "controller" -> controller = p.currentToken() == JsonToken.VALUE_TRUE;
          default -> p.skipChildren();
        }
      }
      if (controller && kind != null && name != null) {
        found = Optional.of(new PodFacts.Owner(kind, name, uid == null ? "" : uid));
      }
    }
    return found;
  }

  /** spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[].matchExpressions[].key */
  private static boolean affinityPinsCapacityType(JsonParser p) throws IOException {
    boolean[] pinned = {false};
    only(p, "nodeAffinity", () -> only(p, "requiredDuringSchedulingIgnoredDuringExecution", () -> only(p, "nodeSelectorTerms",
        () -> elements(p, () -> only(p, "matchExpressions", () -> elements(p, () -> only(p, "key", () -> {
          if (p.currentToken() == JsonToken.VALUE_STRING && PodFacts.isCapacityTypeKey(p.getText())) {
            pinned[0] = true;
          }
        })))))));
    return pinned[0];
  }

  /** Reads a value; must consume it entirely (or skip it). */
  @FunctionalInterface
  private interface Value {
    void read() throws IOException;
  }

  /** Reads one field of the current object with {@code value} and skips the others (and non-objects). */
  private static void only(JsonParser p, String field, Value value) throws IOException {
    if (p.currentToken() != JsonToken.START_OBJECT) {
      p.skipChildren();
      return;
    }
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      p.nextToken();
      if (name.equals(field)) {
        value.read();
      }
      p.skipChildren();
    }
  }

  /** Reads each element of the current array with {@code value}; skips a non-array. */
  private static void elements(JsonParser p, Value value) throws IOException {
    if (p.currentToken() != JsonToken.START_ARRAY) {
      p.skipChildren();
      return;
    }
    while (p.nextToken() != JsonToken.END_ARRAY) {
      value.read();
      p.skipChildren();
    }
  }
}
