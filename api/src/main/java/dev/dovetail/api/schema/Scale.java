package dev.dovetail.api.schema;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** The {@code scale} subresource of a custom resource, as JSON paths into spec and status. */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface Scale {
  String specReplicasPath();

  String statusReplicasPath();
}
