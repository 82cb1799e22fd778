package dev.dovetail.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.Test;

/**
 * {@link ControlPlane#canI}, which every RBAC test leans on, tells kubectl's "no" apart from a kubectl
 * error: a denial is false, anything that is not an answer throws.
 */
@WithApiServer
class CanIApiTest {
  @Test
  void yesIsTrueNoIsFalseAndAnythingElseThrows(ControlPlane cp, KubernetesClient client, TestNamespace ns) {
    String name = ns.unique("can-i");
    String sa = ns.name() + ":" + name;
    client.rbac().clusterRoles().resource(new ClusterRoleBuilder().withNewMetadata().withName(name).endMetadata()
        .addNewRule().withApiGroups("").withResources("nodes").withVerbs("get").endRule().build()).create();
    client.rbac().clusterRoleBindings().resource(new ClusterRoleBindingBuilder().withNewMetadata().withName(name).endMetadata()
        .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", name)
        .addNewSubject().withKind("ServiceAccount").withNamespace(ns.name()).withName(name).endSubject().build()).create();
    try {
      assertThat(cp.canI(sa, "get", "nodes")).isTrue();
      assertThat(cp.canI(sa, "delete", "nodes")).isFalse();
      assertThat(cp.canI(sa, "get", "nodeclaims.karpenter.sh")).isFalse();

      // kubectl warns about a resource type the server does not have and then says "no": not a denial.
      assertThatThrownBy(() -> cp.canI(sa, "get", "nosuchthings.example.com")).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("doesn't have a resource type");
      // A flag kubectl rejects: an error, with nothing on stdout.
      assertThatThrownBy(() -> cp.canI(sa, "get", "nodes", "--no-such-flag")).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("unknown flag");
    } finally {
      client.rbac().clusterRoleBindings().withName(name).delete();
      client.rbac().clusterRoles().withName(name).delete();
    }
  }
}
