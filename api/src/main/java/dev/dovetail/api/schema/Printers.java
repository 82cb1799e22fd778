package dev.dovetail.api.schema;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Column order for {@code kubectl get}. fabric8's generator emits additional printer columns in an
 * order of its own; kubectl prints them in list order, and Karpenter users expect Karpenter's order.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface Printers {
  /** Column names in the order kubectl shows them. */
  String[] value();
}
