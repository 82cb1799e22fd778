package dev.dovetail.testkit;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The *E2EIT tier: a whole kwokctl cluster (kube-scheduler, kube-controller-manager, kwok) shared by
 * the test classes of the run that ask for the same scheduler configuration, with Dovetail's CRDs
 * installed and a fresh namespace per test.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Inherited
@Tag("e2e")
@ExtendWith(ControlPlaneExtension.class)
public @interface WithCluster {
  /** A KubeSchedulerConfiguration, relative to the repository root; empty = kube-scheduler defaults. */
  String schedulerConfig() default "";
}
