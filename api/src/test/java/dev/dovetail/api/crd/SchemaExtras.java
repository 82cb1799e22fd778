package dev.dovetail.api.crd;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.dovetail.api.schema.Elements;
import dev.dovetail.api.schema.Format;
import dev.dovetail.api.schema.ListType;
import dev.dovetail.api.schema.MapType;
import dev.dovetail.api.schema.Printers;
import dev.dovetail.api.schema.Scale;
import io.fabric8.crdv2.generator.CRDPostProcessor;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceSubresourceScale;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.api.model.apiextensions.v1.ValidationRule;
import io.fabric8.kubernetes.client.CustomResource;
import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Completes fabric8's generated CRDs with what our model declares but the generator does not emit:
 * list and map types, constraints on list elements and map values, formats, the scale subresource,
 * printer-column order, and descriptions of the root, {@code spec} and {@code status}. It also removes
 * the duplicate CEL rules the generator emits for record components (one per field and accessor) and
 * fails when any field lacks a description, so {@code kubectl explain} is useful everywhere.
 */
final class SchemaExtras implements CRDPostProcessor {
  private final Map<String, Class<? extends CustomResource<?, ?>>> byCrdName = new LinkedHashMap<>();
  private final List<String> problems = new ArrayList<>();

  SchemaExtras(Collection<Class<? extends CustomResource<?, ?>>> resources) {
    for (Class<? extends CustomResource<?, ?>> c : resources) {
      byCrdName.put(CustomResource.getCRDName(c), c);
    }
  }

  List<String> problems() {
    return problems;
  }

  @Override
  public HasMetadata process(HasMetadata generated, String crdSpecVersion) {
    CustomResourceDefinition crd = (CustomResourceDefinition) generated;
    Class<? extends CustomResource<?, ?>> resource = Objects.requireNonNull(
        byCrdName.get(crd.getMetadata().getName()), () -> "no model class for " + crd.getMetadata().getName());
    for (CustomResourceDefinitionVersion version : crd.getSpec().getVersions()) {
      JSONSchemaProps root = version.getSchema().getOpenAPIV3Schema();
      root.setDescription(classDescription(resource));
      Map<String, JSONSchemaProps> properties = new LinkedHashMap<>();
      properties.put("apiVersion", text("APIVersion defines the versioned schema of this representation of an object. "
          + "Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values."));
      properties.put("kind", text("Kind is a string value representing the REST resource this object represents. "
          + "Servers may infer this from the endpoint the client submits requests to. In CamelCase."));
      JSONSchemaProps metadata = new JSONSchemaProps();
      metadata.setType("object");
      // The API server allows nothing but the type here (not even a description).
      properties.put("metadata", metadata);
      properties.putAll(root.getProperties());
      root.setProperties(properties);

      // An object without spec would skip every rule inside spec, so spec is always required.
      root.setRequired(List.of("spec"));
      ParameterizedType base = (ParameterizedType) resource.getGenericSuperclass();
      complete(base.getActualTypeArguments()[0], root.getProperties().get("spec"), "spec");
      if (root.getProperties().containsKey("status")) {
        complete(base.getActualTypeArguments()[1], root.getProperties().get("status"), "status");
      }
      dedupeRules(root);
      orderPrinterColumns(resource, version);
      Scale scale = resource.getAnnotation(Scale.class);
      if (scale != null) {
        CustomResourceSubresourceScale s = new CustomResourceSubresourceScale();
        s.setSpecReplicasPath(scale.specReplicasPath());
        s.setStatusReplicasPath(scale.statusReplicasPath());
        version.getSubresources().setScale(s);
      }
    }
    return crd;
  }

  private static JSONSchemaProps text(String description) {
    JSONSchemaProps p = new JSONSchemaProps();
    p.setType("string");
    p.setDescription(description);
    return p;
  }

  private static String classDescription(Class<?> c) {
    JsonClassDescription d = c.getAnnotation(JsonClassDescription.class);
    return d == null ? null : d.value();
  }

  /** Walks the Java type and its schema side by side, applying our annotations. */
  private void complete(Type javaType, JSONSchemaProps schema, String path) {
    if (schema == null) {
      problems.add(path + ": generated schema is missing");
      return;
    }
    Class<?> raw = raw(javaType);
    if (Collection.class.isAssignableFrom(raw)) {
      complete(typeArgument(javaType, 0), schema.getItems().getSchema(), path + "[]");
      return;
    }
    if (Map.class.isAssignableFrom(raw)) {
      if (schema.getAdditionalProperties() != null && schema.getAdditionalProperties().getSchema() != null) {
        complete(typeArgument(javaType, 1), schema.getAdditionalProperties().getSchema(), path + "{}");
      }
      return;
    }
    if (!raw.getPackageName().startsWith("dev.dovetail.api") || raw.isEnum()) {
      return;
    }
    if (schema.getDescription() == null) {
      schema.setDescription(classDescription(raw));
    }
    for (Member m : members(raw)) {
      String at = path + "." + m.name;
      JSONSchemaProps property = schema.getProperties() == null ? null : schema.getProperties().get(m.name);
      if (property == null) {
        problems.add(at + ": generated schema is missing");
        continue;
      }
      if (property.getDescription() == null || property.getDescription().isBlank()) {
        problems.add(at + ": no description (add @JsonPropertyDescription)");
      }
      ListType listType = m.element.getAnnotation(ListType.class);
      if (listType != null) {
        property.setXKubernetesListType(listType.value().keyword);
        if (listType.mapKeys().length > 0) {
          property.setXKubernetesListMapKeys(List.of(listType.mapKeys()));
        }
      }
      MapType mapType = m.element.getAnnotation(MapType.class);
      if (mapType != null) {
        property.setXKubernetesMapType(mapType.value());
      }
      Format format = m.element.getAnnotation(Format.class);
      if (format != null) {
        property.setFormat(format.value());
      }
      Elements elements = m.element.getAnnotation(Elements.class);
      if (elements != null) {
        JSONSchemaProps element = elementSchema(property);
        if (element == null) {
          problems.add(at + ": @Elements on a field that is neither a list nor a map");
        } else {
          constrain(element, elements);
        }
      }
      complete(m.type, property, at);
    }
  }

  /** The schema of a list's items or a map's values; null for anything else. */
  private static JSONSchemaProps elementSchema(JSONSchemaProps property) {
    if (property.getItems() != null) {
      return property.getItems().getSchema();
    }
    if (property.getAdditionalProperties() != null) {
      return property.getAdditionalProperties().getSchema();
    }
    return null;
  }

  private static void constrain(JSONSchemaProps element, Elements e) {
    if (!e.pattern().isEmpty()) {
      element.setPattern(e.pattern());
    }
    if (e.maxLength() >= 0) {
      element.setMaxLength(e.maxLength());
    }
    if (e.minLength() >= 0) {
      element.setMinLength(e.minLength());
    }
    if (e.allowed().length > 0) {
      element.setEnum(Arrays.stream(e.allowed()).map(v -> (JsonNode) TextNode.valueOf(v)).toList());
    }
  }

  /** fabric8 emits a record component's CEL rules once for the field and once for the accessor. */
  private static void dedupeRules(JSONSchemaProps schema) {
    if (schema == null) {
      return;
    }
    List<ValidationRule> rules = schema.getXKubernetesValidations();
    if (rules != null && !rules.isEmpty()) {
      Map<String, ValidationRule> unique = new LinkedHashMap<>();
      rules.forEach(r -> unique.putIfAbsent(r.getRule() + "\u0000" + r.getMessage(), r));
      schema.setXKubernetesValidations(new ArrayList<>(unique.values()));
    }
    if (schema.getProperties() != null) {
      schema.getProperties().values().forEach(SchemaExtras::dedupeRules);
    }
    if (schema.getItems() != null) {
      dedupeRules(schema.getItems().getSchema());
    }
    if (schema.getAdditionalProperties() != null) {
      dedupeRules(schema.getAdditionalProperties().getSchema());
    }
  }

  private void orderPrinterColumns(Class<?> resource, CustomResourceDefinitionVersion version) {
    Printers printers = resource.getAnnotation(Printers.class);
    List<CustomResourceColumnDefinition> columns = version.getAdditionalPrinterColumns();
    if (printers == null || columns == null) {
      return;
    }
    List<String> order = List.of(printers.value());
    if (!new LinkedHashSet<>(order).equals(columns.stream().map(CustomResourceColumnDefinition::getName)
        .collect(Collectors.toCollection(LinkedHashSet::new)))) {
      problems.add(resource.getSimpleName() + ": @Printers must name every printer column exactly once");
      return;
    }
    List<CustomResourceColumnDefinition> sorted = new ArrayList<>(columns);
    sorted.sort(Comparator.comparingInt(c -> order.indexOf(c.getName())));
    version.setAdditionalPrinterColumns(sorted);
  }

  private record Member(String name, Type type, AnnotatedElement element) {
  }

  private static List<Member> members(Class<?> c) {
    List<Member> out = new ArrayList<>();
    if (c.isRecord()) {
      for (RecordComponent rc : c.getRecordComponents()) {
        if (rc.getAccessor().isAnnotationPresent(JsonIgnore.class)) {
          continue;
        }
        JsonProperty p = rc.getAnnotation(JsonProperty.class);
        out.add(new Member(p == null || p.value().isEmpty() ? rc.getName() : p.value(), rc.getGenericType(), rc));
      }
      return out;
    }
    for (Field f : c.getDeclaredFields()) {
      if (Modifier.isStatic(f.getModifiers()) || f.isAnnotationPresent(JsonIgnore.class)) {
        continue;
      }
      JsonProperty p = f.getAnnotation(JsonProperty.class);
      out.add(new Member(p == null || p.value().isEmpty() ? f.getName() : p.value(), f.getGenericType(), f));
    }
    return out;
  }

  private static Class<?> raw(Type t) {
    if (t instanceof Class<?> c) {
      return c;
    }
    if (t instanceof ParameterizedType p) {
      return (Class<?>) p.getRawType();
    }
    throw new IllegalArgumentException("unsupported model type " + t);
  }

  private static Type typeArgument(Type t, int i) {
    return ((ParameterizedType) t).getActualTypeArguments()[i];
  }
}
