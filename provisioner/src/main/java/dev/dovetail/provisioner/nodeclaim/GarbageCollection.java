package dev.dovetail.provisioner.nodeclaim;

import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeClaimStatus;
import dev.dovetail.provisioner.cloud.CloudProvider;
import dev.dovetail.provisioner.cloud.CloudProviderException;
import dev.dovetail.provisioner.cloud.Instance;
import dev.dovetail.provisioner.controller.Result;
import dev.dovetail.provisioner.controller.Singleton;
import dev.dovetail.provisioner.kube.Writer;
import dev.dovetail.runtime.Failures;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Instances this cluster launched that no NodeClaim owns any more (a launch whose claim was deleted
 * while the call was in flight, a claim removed by hand) are terminated once they are older than a
 * grace period, which leaves room for launches whose claim has not recorded the instance yet. The
 * reverse case, a claim whose instance is gone, is the lifecycle's (it deletes the claim).
 */
public final class GarbageCollection {
  private static final Logger LOG = LoggerFactory.getLogger(GarbageCollection.class);
  /** Karpenter's grace for an instance without a NodeClaim. */
  public static final Duration GRACE = Duration.ofMinutes(5);

  private final Supplier<List<NodeClaim>> claims;
  private final Function<String, Optional<Node>> nodeByProviderId;
  private final Writer writer;
  private final CloudProvider cloud;
  private final Clock clock;
  private final Duration grace;
  private final Counter collected;

  /**
   * @param claims           the NodeClaims there are (from the cache)
   * @param nodeByProviderId the Node of a provider ID, if there is one (from the cache)
   */
  public GarbageCollection(Supplier<List<NodeClaim>> claims, Function<String, Optional<Node>> nodeByProviderId, Writer writer,
      CloudProvider cloud, Clock clock, Duration grace, MeterRegistry registry) {
    this.claims = claims;
    this.nodeByProviderId = nodeByProviderId;
    this.writer = writer;
    this.cloud = cloud;
    this.clock = clock;
    this.grace = grace;
    this.collected = Counter.builder("dovetail.cloud.orphans.terminated")
        .description("Instances terminated because no NodeClaim owned them past the grace period").register(registry);
  }

  /** The instances no claim owns (by name or provider ID) that launched more than {@code grace} before {@code now}. */
  public static List<Instance> orphans(List<Instance> instances, List<NodeClaim> claims, Instant now, Duration grace) {
    Set<String> names = new HashSet<>();
    Set<String> providerIds = new HashSet<>();
    for (NodeClaim c : claims) {
      names.add(c.getMetadata().getName());
      if (c.getStatus() != null && c.getStatus().providerID() != null) {
        providerIds.add(c.getStatus().providerID());
      }
    }
    return instances.stream()
        .filter(i -> !providerIds.contains(i.providerId()) && !names.contains(i.nodeClaim()))
        .filter(i -> i.launchedAt().plus(grace).isBefore(now))
        .toList();
  }

  /**
   * The garbage collection controller: a pass every {@code period} (with 10 % jitter) while this replica
   * leads. Call {@link Singleton#start} on it once the caches are synced.
   */
  public Singleton controller(Duration period, BooleanSupplier leading, MeterRegistry registry) {
    return new Singleton("nodeclaim.garbagecollection", period, 0.1, context -> collect().thenApply(collected -> Result.DONE), leading,
        registry);
  }

  /** One pass; completes with the instances it terminated. Call it only while the caches are synced. */
  public CompletionStage<List<Instance>> collect() {
    return cloud.list().thenCompose(instances -> {
      List<Instance> orphans = orphans(instances, claims.get(), clock.instant(), grace);
      List<CompletableFuture<Instance>> done = orphans.stream().map(i -> cloud.delete(claimFor(i)).handle((ok, error) -> {
        Throwable cause = Failures.cause(error);
        if (cause != null && !(cause instanceof CloudProviderException.NotFound)) {
          LOG.warn("terminating orphan instance {} failed (next pass retries): {}", i.instanceId(), cause.toString());
          return (Instance) null;
        }
        LOG.info("terminated instance {} ({}, launched {}): no NodeClaim owns it (tagged for {})", i.instanceId(), i.instanceType(), i.launchedAt(),
            i.nodeClaim().isEmpty() ? "none" : i.nodeClaim());
        collected.increment();
        deleteStaleNode(i);
        return i;
      }).toCompletableFuture()).toList();
      CompletableFuture<Void> rest = cloud.collectGarbage().toCompletableFuture().exceptionally(e -> {
        LOG.warn("collecting unused cloud resources failed (next pass retries): {}", e.toString());
        return null;
      });
      return CompletableFuture.allOf(rest, CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)))
          .thenApply(x -> done.stream().map(CompletableFuture::join).filter(Objects::nonNull).toList());
    });
  }

  /** A stand-in claim for the provider's delete: the orphan's name tag and provider ID. */
  private static NodeClaim claimFor(Instance i) {
    NodeClaim claim = new NodeClaim();
    claim.setMetadata(new ObjectMetaBuilder().withName(i.nodeClaim().isEmpty() ? "orphan-" + i.instanceId() : i.nodeClaim()).build());
    claim.setStatus(new NodeClaimStatus(null, i.providerId(), null, null, null, null, null));
    return claim;
  }

  /** A Node left by the terminated instance would look like capacity: it goes too. */
  private void deleteStaleNode(Instance i) {
    nodeByProviderId.apply(i.providerId()).map(Node::getMetadata).ifPresent(m -> {
      try {
        writer.delete(Node.class, m.getName());
      } catch (RuntimeException e) {
        LOG.warn("deleting node {} of orphan instance {} failed: {}", m.getName(), i.instanceId(), e.toString());
      }
    });
  }
}
