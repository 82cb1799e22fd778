package dev.dovetail.provisioner.controller;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonSerializable;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.jsontype.TypeSerializer;
import java.io.IOException;

/**
 * An object named on a log line as Karpenter names it (klog's {@code KRef}): a JSON object
 * {@code {"name":"default-abcde"}}, with {@code "namespace"} for a namespaced one, under the object's kind
 * ({@code "NodeClaim"}, {@code "NodePool"}, {@code "Node"}, {@code "Pod"}); in the text format
 * {@code name} or {@code namespace/name}.
 */
public record ObjectRef(String namespace, String name) implements JsonSerializable {
  /** A cluster-scoped object. */
  public static ObjectRef of(String name) {
    return new ObjectRef(null, name);
  }

  @Override
  public void serialize(JsonGenerator generator, SerializerProvider provider) throws IOException {
    generator.writeStartObject();
    generator.writeStringField("name", name);
    if (namespace != null && !namespace.isEmpty()) {
      generator.writeStringField("namespace", namespace);
    }
    generator.writeEndObject();
  }

  @Override
  public void serializeWithType(JsonGenerator generator, SerializerProvider provider, TypeSerializer type) throws IOException {
    serialize(generator, provider);
  }

  @Override
  public String toString() {
    return namespace == null || namespace.isEmpty() ? name : namespace + "/" + name;
  }
}
