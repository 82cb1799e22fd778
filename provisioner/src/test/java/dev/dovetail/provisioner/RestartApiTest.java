package dev.dovetail.provisioner;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.provisioner.testing.Expect;
import dev.dovetail.provisioner.testing.Kubelet;
import dev.dovetail.provisioner.testing.NodeClaims;
import dev.dovetail.provisioner.testing.NodeClasses;
import dev.dovetail.provisioner.testing.Pods;
import dev.dovetail.provisioner.testing.TestOperator;
import dev.dovetail.testkit.TestNamespace;
import dev.dovetail.testkit.WithApiServer;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * A provisioner taking over a cluster that already has NodeClaims, nodes and running pods (a restart, a
 * new leader), on a real API server: it reads them all without a failing event handler, and carries on.
 */
@WithApiServer
class RestartApiTest {
  @RegisterExtension
  final TestOperator.PerTest operator = new TestOperator.PerTest();
  private TestOperator provisioner;

  @Test
  void aNewLeaderTakesOverClaimsNodesAndPodsWithoutHandlerErrorsAndCarriesOn(KubernetesClient client, TestNamespace ns) {
    provisioner = operator.start(client);
    EC2NodeClass nodeClass = Expect.readyNodeClass(client, NodeClasses.nodeClass());
    NodeClaim claim = client.resource(NodeClaims.nodeClaim(c -> c.nodeClass(nodeClass.getMetadata().getName()))).create();
    String name = claim.getMetadata().getName();
    String node = Kubelet.join(client, name);
    List<Pod> pods = IntStream.range(0, 3).mapToObj(i -> Kubelet.runOn(client, Pods.pod(Pods.in(ns.name())), node)).toList();

    Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    root.addAppender(logged);
    try {
      provisioner.restart();

      // The new leader carries on: the claim it found is drained and terminated when deleted.
      client.resources(NodeClaim.class).withName(name).delete();
      for (Pod p : pods) {
        Expect.eventually("pod " + p.getMetadata().getName() + " evicted", () -> client.pods().resource(p).get(),
            x -> x.getMetadata().getDeletionTimestamp() != null);
        Kubelet.finishTermination(client, p);
      }
      Expect.gone(client, Node.class, node);
      Expect.gone(client, NodeClaim.class, name);
    } finally {
      root.detachAppender(logged);
    }
    assertThat(logged.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.ERROR))
        .map(e -> e.getLoggerName() + ": " + e.getFormattedMessage())).as("errors logged by the new leader").isEmpty();
  }
}
