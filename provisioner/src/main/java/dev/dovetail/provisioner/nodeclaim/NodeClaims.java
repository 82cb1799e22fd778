package dev.dovetail.provisioner.nodeclaim;

import dev.dovetail.api.common.Condition;
import dev.dovetail.api.karpenter.v1.ConditionTypes;
import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeClaimStatus;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import dev.dovetail.provisioner.kube.Conditions;
import dev.dovetail.provisioner.kube.Writer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** What every NodeClaim controller reads off a claim, and how its status conditions roll up. */
public final class NodeClaims {
  public static final String TERMINATION_FINALIZER = "karpenter.sh/termination";
  public static final String DEFAULT_EXPIRE_AFTER = "720h";
  /** The conditions {@code Ready} rolls up, in order. */
  static final List<String> LIFECYCLE = List.of(ConditionTypes.LAUNCHED, ConditionTypes.REGISTERED, ConditionTypes.INITIALIZED);

  private NodeClaims() {
  }

  public static String pool(NodeClaim claim) {
    return label(claim, WellKnownLabels.NODEPOOL);
  }

  public static String capacityType(NodeClaim claim) {
    return label(claim, WellKnownLabels.CAPACITY_TYPE);
  }

  public static String label(NodeClaim claim, String key) {
    Map<String, String> labels = claim.getMetadata().getLabels();
    return labels == null ? "" : labels.getOrDefault(key, "");
  }

  public static String annotation(NodeClaim claim, String key) {
    Map<String, String> annotations = claim.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(key);
  }

  public static Optional<String> providerId(NodeClaim claim) {
    return Optional.ofNullable(claim.getStatus()).map(NodeClaimStatus::providerID);
  }

  public static List<Condition> conditions(NodeClaim claim) {
    return claim.getStatus() == null ? null : claim.getStatus().conditions();
  }

  public static boolean isTrue(NodeClaim claim, String type) {
    return Conditions.isTrue(conditions(claim), type);
  }

  public static long generation(NodeClaim claim) {
    return claim.getMetadata().getGeneration() == null ? 1 : claim.getMetadata().getGeneration();
  }

  public static boolean deleting(NodeClaim claim) {
    return claim.getMetadata().getDeletionTimestamp() != null;
  }

  public static Duration age(NodeClaim claim, Instant now) {
    String created = claim.getMetadata().getCreationTimestamp();
    return created == null ? Duration.ZERO : Duration.between(Instant.parse(created), now);
  }

  /** Time since {@code Launched} turned true (its age, if that is not recorded). */
  public static Duration sinceLaunched(NodeClaim claim, Instant now) {
    return Conditions.get(conditions(claim), ConditionTypes.LAUNCHED).map(Condition::lastTransitionTime).filter(t -> !t.isEmpty())
        .map(t -> Duration.between(Instant.parse(t), now)).orElse(age(claim, now));
  }

  /** The status with {@code conditions}, everything else kept. */
  public static NodeClaimStatus withConditions(NodeClaimStatus s, List<Condition> conditions) {
    return s == null ? new NodeClaimStatus(null, null, null, null, null, null, conditions)
        : new NodeClaimStatus(s.nodeName(), s.providerID(), s.imageID(), s.capacity(), s.allocatable(), s.lastPodEventTime(), conditions);
  }

  /** The claim's status with one condition set and {@code Ready} rolled up again. */
  public static NodeClaimStatus withCondition(NodeClaim claim, String type, Condition.Status status, String reason, String message,
      Instant now) {
    List<Condition> conditions = Conditions.set(conditions(claim), type, status, reason, message, generation(claim), now);
    return withConditions(claim.getStatus(), rollUp(conditions, generation(claim), now));
  }

  /**
   * {@code Ready}: True when Launched, Registered and Initialized all are; False when one is False;
   * Unknown otherwise; the message names those that are not True.
   */
  public static List<Condition> rollUp(List<Condition> conditions, long generation, Instant now) {
    List<String> notTrue = new ArrayList<>();
    for (String t : LIFECYCLE) {
      Optional<Condition> c = Conditions.get(conditions, t);
      if (c.isEmpty() || !c.get().isTrue()) {
        notTrue.add(t + "=" + c.map(x -> x.status().name()).orElse("Unknown"));
      }
    }
    boolean anyFalse = notTrue.stream().anyMatch(s -> s.endsWith("=False"));
    return Conditions.set(conditions, ConditionTypes.READY, notTrue.isEmpty() ? Condition.Status.True
        : anyFalse ? Condition.Status.False : Condition.Status.Unknown, notTrue.isEmpty() ? "Ready" : "UnhealthyDependents",
        String.join(", ", notTrue), generation, now);
  }

  /** A condition's reason and message. */
  public record Why(String reason, String message) {
  }

  /**
   * Keeps a condition that is either True (with {@code why}) or absent: writes it when it is missing or
   * says something else, removes it when {@code why} is empty; returns the claim as written (or as it was).
   */
  public static NodeClaim trueOrAbsent(Writer writer, NodeClaim claim, String type, Optional<Why> why, Instant now) {
    Optional<Condition> current = Conditions.get(conditions(claim), type);
    if (why.isPresent() && !(current.isPresent() && current.get().isTrue() && why.get().reason().equals(current.get().reason()))) {
      return writer.writeStatus(claim, withCondition(claim, type, Condition.Status.True, why.get().reason(), why.get().message(), now));
    }
    if (why.isEmpty() && current.isPresent()) {
      return writer.writeStatus(claim, withConditions(claim.getStatus(), Conditions.remove(conditions(claim), type)));
    }
    return claim;
  }
}
