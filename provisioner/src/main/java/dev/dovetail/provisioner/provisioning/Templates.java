package dev.dovetail.provisioner.provisioning;

import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodePool;
import dev.dovetail.api.karpenter.v1.Taints;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.api.scheduling.ClaimTemplate;
import dev.dovetail.api.scheduling.InstanceOption;
import dev.dovetail.api.scheduling.Requirement;
import dev.dovetail.api.scheduling.Requirements;
import dev.dovetail.api.scheduling.Resources;
import dev.dovetail.api.scheduling.SchedulingPod;
import dev.dovetail.api.scheduling.Tolerations;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Turns NodePools into what the simulation launches from: requirements (the pool's, its template
 * labels, and Karpenter's on-demand default when the pool says nothing about capacity type), taints,
 * the DaemonSet pods every new node will run, the node class's instance options and what the pool's
 * limits still allow given the NodeClaims it already has.
 */
public final class Templates {
  private Templates() {
  }

  /** A NodePool ready to launch, with its node class and simulation template. */
  public record PoolTemplate(NodePool pool, EC2NodeClass nodeClass, ClaimTemplate template) {
  }

  /** Why a NodePool cannot launch now, or empty when it can. */
  public static Optional<String> notReady(NodePool pool, Optional<EC2NodeClass> nodeClass) {
    if (pool.getMetadata().getDeletionTimestamp() != null) {
      return Optional.of("NodePool is being deleted");
    }
    if (pool.getSpec().replicas() != null) {
      return Optional.of("static NodePool (spec.replicas set) is not provisioned from pending pods");
    }
    var ref = pool.getSpec().template().spec().nodeClassRef();
    if (ref == null || !"EC2NodeClass".equals(ref.kind()) || !"karpenter.k8s.aws".equals(ref.group())) {
      return Optional.of("nodeClassRef must name a karpenter.k8s.aws EC2NodeClass");
    }
    if (nodeClass.isEmpty()) {
      return Optional.of("EC2NodeClass " + ref.name() + " not found");
    }
    var status = nodeClass.get().getStatus();
    boolean ready = status != null && status.conditions() != null
        && status.conditions().stream().anyMatch(c -> c.type().equals(ConditionTypes.READY) && c.isTrue());
    if (!ready) {
      String why = status == null || status.conditions() == null ? "has no status yet"
          : status.conditions().stream().filter(c -> c.type().equals(ConditionTypes.READY)).map(c -> c.message().isEmpty() ? c.reason() : c.message())
              .findFirst().orElse("is not Ready");
      return Optional.of("EC2NodeClass " + ref.name() + " is not ready: " + why);
    }
    return Optional.empty();
  }

  /** The pool's requirements as a NodeClaim from it carries them (before narrowing to instance types). */
  public static Requirements requirements(NodePool pool) {
    var template = pool.getSpec().template();
    Requirements r = Requirements.ofKarpenter(template.spec().requirements());
    if (template.metadata() != null && template.metadata().labels() != null) {
      r = r.and(Requirements.ofLabels(template.metadata().labels()));
    }
    r = r.and(Requirement.in(WellKnownLabels.NODEPOOL, pool.getMetadata().getName()));
    if (!r.has(WellKnownLabels.CAPACITY_TYPE)) {
      r = r.and(Requirement.in(WellKnownLabels.CAPACITY_TYPE, WellKnownLabels.ON_DEMAND));
    }
    return r;
  }

  public static Map<String, String> labels(NodePool pool) {
    Map<String, String> labels = new TreeMap<>();
    var meta = pool.getSpec().template().metadata();
    if (meta != null && meta.labels() != null) {
      labels.putAll(meta.labels());
    }
    labels.put(WellKnownLabels.NODEPOOL, pool.getMetadata().getName());
    return labels;
  }

  /**
   * The requests of the DaemonSet pods that would run on a node of this pool: those that tolerate
   * its taints and whose node selection its requirements allow.
   */
  public static Resources daemonOverhead(Requirements requirements, List<Taint> taints, List<DaemonSet> daemonSets) {
    Resources total = Resources.NONE;
    for (DaemonSet ds : daemonSets) {
      if (ds.getSpec() == null || ds.getSpec().getTemplate() == null || ds.getSpec().getTemplate().getSpec() == null) {
        continue;
      }
      Pod pod = new PodBuilder().withNewMetadata().withName(ds.getMetadata().getName()).withNamespace(ds.getMetadata().getNamespace())
          .endMetadata().withSpec(ds.getSpec().getTemplate().getSpec()).build();
      SchedulingPod p = SchedulingPod.of(pod, Requirements.NONE);
      if (Tolerations.firstUntolerated(p.tolerations(), taints).isPresent()) {
        continue;
      }
      boolean lands = p.alternatives().stream().anyMatch(alt -> requirements.compatible(alt).isEmpty());
      if (lands) {
        total = total.plus(Resources.requestsOf(pod));
      }
    }
    return total;
  }

  /**
   * What a pool's NodeClaims take from its limits: a launched claim its capacity; one not launched yet
   * the largest of the instance types it may become (Karpenter's rule, so a burst cannot overshoot).
   */
  public static Resources usage(String pool, List<NodeClaim> claims, Function<Requirements, Resources> largestOption) {
    Resources total = Resources.NONE;
    long nodes = 0;
    for (NodeClaim c : claims) {
      Map<String, String> labels = c.getMetadata().getLabels();
      if (labels == null || !pool.equals(labels.get(WellKnownLabels.NODEPOOL))) {
        continue;
      }
      nodes++;
      if (c.getStatus() != null && c.getStatus().capacity() != null && !c.getStatus().capacity().isEmpty()) {
        total = total.plus(Resources.of(c.getStatus().capacity()));
      } else {
        total = total.plus(largestOption.apply(Requirements.ofKarpenter(c.getSpec().requirements())));
      }
    }
    Map<String, Long> withNodes = new LinkedHashMap<>(total.amounts());
    withNodes.put("nodes", nodes);
    return new Resources(withNodes);
  }

  /** The largest capacity, per resource, of the options the requirements allow. */
  public static Resources largest(List<InstanceOption> options, Requirements requirements) {
    Map<String, Long> out = new TreeMap<>();
    for (InstanceOption o : options) {
      if (o.requirements().intersects(requirements)) {
        o.capacity().amounts().forEach((k, v) -> out.merge(k, v, Math::max));
      }
    }
    return new Resources(out);
  }

  /** Limits minus usage, for the resources the pool limits; null when it sets no limits. */
  public static Resources remaining(NodePool pool, Resources usage) {
    var limits = pool.getSpec().limits();
    if (limits == null || limits.isEmpty()) {
      return null;
    }
    Map<String, Long> out = new TreeMap<>();
    Resources limit = Resources.of(limits);
    for (var e : limit.amounts().entrySet()) {
      out.put(e.getKey(), e.getValue() - usage.get(e.getKey()));
    }
    return new Resources(out);
  }

  public static PoolTemplate build(NodePool pool, EC2NodeClass nodeClass, List<InstanceOption> options, List<DaemonSet> daemonSets,
      List<NodeClaim> claims) {
    Requirements requirements = requirements(pool);
    List<Taint> taints = Taints.toKubernetes(pool.getSpec().template().spec().taints());
    Resources overhead = daemonOverhead(requirements, taints, daemonSets);
    Resources usage = usage(pool.getMetadata().getName(), claims, r -> largest(options, r));
    int weight = pool.getSpec().weight() == null ? 0 : pool.getSpec().weight();
    ClaimTemplate template = new ClaimTemplate(pool.getMetadata().getName(), weight, requirements, labels(pool), taints, overhead,
        options, remaining(pool, usage));
    return new PoolTemplate(pool, nodeClass, template);
  }

  static boolean conditionTrue(List<Condition> conditions, String type) {
    return conditions != null && conditions.stream().anyMatch(c -> c.type().equals(type) && c.isTrue());
  }
}
