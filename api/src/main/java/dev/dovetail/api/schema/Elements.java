package dev.dovetail.api.schema;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Constraints on the elements of a list field or the values of a map field of strings (or
 * quantities): what fabric8's {@code @Pattern}/{@code @Size} would say if they could reach inside a
 * container. Empty or negative values mean "not constrained".
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.FIELD, ElementType.METHOD, ElementType.RECORD_COMPONENT})
public @interface Elements {
  String pattern() default "";

  long maxLength() default -1;

  long minLength() default -1;

  /** Allowed values; empty = any. */
  String[] allowed() default {};
}
