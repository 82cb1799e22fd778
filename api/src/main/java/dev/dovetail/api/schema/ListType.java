package dev.dovetail.api.schema;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** {@code x-kubernetes-list-type} (and {@code x-kubernetes-list-map-keys} for {@code map}) of a list field. */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.FIELD, ElementType.METHOD, ElementType.RECORD_COMPONENT})
public @interface ListType {
  Kind value();

  /** Keys of a {@code map} list. */
  String[] mapKeys() default {};

  enum Kind {
    ATOMIC("atomic"),
    SET("set"),
    MAP("map");

    public final String keyword;

    Kind(String keyword) {
      this.keyword = keyword;
    }
  }
}
