package dev.dovetail.api.crd;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.function.UnaryOperator;

/** Small JSON-pointer edits that turn a valid manifest into a specific invalid one. */
final class Edits {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Edits() {
  }

  /** Sets (or replaces) the value at a pointer; the value is JSON text, such as {@code 0} or {@code "10%"}. */
  static UnaryOperator<ObjectNode> set(String pointer, String json) {
    return doc -> {
      JsonPointer p = JsonPointer.compile(pointer);
      JsonNode parent = doc.at(p.head());
      JsonNode value = parse(json);
      if (parent instanceof ArrayNode array) {
        int i = p.last().getMatchingIndex();
        if (i < array.size()) {
          array.set(i, value);
        } else {
          array.add(value);
        }
      } else if (parent instanceof ObjectNode object) {
        object.set(p.last().getMatchingProperty(), value);
      } else {
        throw new IllegalArgumentException("no object or array at " + p.head() + " in " + doc);
      }
      return doc;
    };
  }

  static UnaryOperator<ObjectNode> remove(String pointer) {
    return doc -> {
      JsonPointer p = JsonPointer.compile(pointer);
      JsonNode parent = doc.at(p.head());
      if (parent instanceof ObjectNode object) {
        object.remove(p.last().getMatchingProperty());
      } else if (parent instanceof ArrayNode array) {
        array.remove(p.last().getMatchingIndex());
      } else {
        throw new IllegalArgumentException("nothing to remove at " + pointer);
      }
      return doc;
    };
  }

  @SafeVarargs
  static UnaryOperator<ObjectNode> all(UnaryOperator<ObjectNode>... edits) {
    return doc -> {
      for (UnaryOperator<ObjectNode> e : edits) {
        doc = e.apply(doc);
      }
      return doc;
    };
  }

  private static JsonNode parse(String json) {
    try {
      return JSON.readTree(json);
    } catch (Exception e) {
      throw new IllegalArgumentException("not JSON: " + json, e);
    }
  }
}
