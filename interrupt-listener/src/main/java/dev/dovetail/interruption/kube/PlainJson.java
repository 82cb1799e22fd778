package dev.dovetail.interruption.kube;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON trees to plain values (maps, lists, strings, numbers, booleans, null) and back, for the pure code
 * in api that works on plain values (node marks, events). Walked by hand rather than with
 * {@code ObjectMapper.convertValue}, which would load databind's bean (de)serializers into this agent for
 * a few small objects.
 */
public final class PlainJson {
  private PlainJson() {
  }

  /** The value a JSON tree holds: objects as (ordered) maps, arrays as lists. */
  public static Object plain(JsonNode node) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      return null;
    }
    if (node.isObject()) {
      Map<String, Object> out = new LinkedHashMap<>();
      for (Map.Entry<String, JsonNode> e : node.properties()) {
        out.put(e.getKey(), plain(e.getValue()));
      }
      return out;
    }
    if (node.isArray()) {
      List<Object> out = new ArrayList<>(node.size());
      node.forEach(e -> out.add(plain(e)));
      return out;
    }
    if (node.isBoolean()) {
      return node.booleanValue();
    }
    if (node.isIntegralNumber()) {
      return node.canConvertToLong() ? (Object) node.longValue() : node.bigIntegerValue();
    }
    if (node.isNumber()) {
      return node.decimalValue();
    }
    return node.asText();
  }

  /** An object's fields as plain values; empty when the node is not an object. */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> object(JsonNode node) {
    return node != null && node.isObject() ? (Map<String, Object>) plain(node) : Map.of();
  }

  /** A JSON tree of plain values; anything else is written as its string. */
  public static JsonNode tree(Object value) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    if (value == null) {
      return f.nullNode();
    }
    if (value instanceof Map<?, ?> map) {
      ObjectNode out = f.objectNode();
      map.forEach((k, v) -> out.set(String.valueOf(k), tree(v)));
      return out;
    }
    if (value instanceof Iterable<?> list) {
      ArrayNode out = f.arrayNode();
      list.forEach(v -> out.add(tree(v)));
      return out;
    }
    if (value instanceof Boolean b) {
      return f.booleanNode(b);
    }
    if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
      return f.numberNode(((Number) value).longValue());
    }
    if (value instanceof BigInteger i) {
      return f.numberNode(i);
    }
    if (value instanceof BigDecimal d) {
      return f.numberNode(d);
    }
    if (value instanceof Double d) {
      return f.numberNode(d);
    }
    if (value instanceof Float d) {
      return f.numberNode(d);
    }
    return f.textNode(value.toString());
  }
}
