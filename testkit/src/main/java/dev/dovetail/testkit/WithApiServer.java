package dev.dovetail.testkit;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The *ApiTest tier: a real kube-apiserver and etcd, shared by every test class of the run, with
 * Dovetail's CRDs installed and a fresh namespace per test ({@link TestNamespace} parameter).
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Inherited
@Tag("api")
@ExtendWith(ControlPlaneExtension.class)
public @interface WithApiServer {
}
