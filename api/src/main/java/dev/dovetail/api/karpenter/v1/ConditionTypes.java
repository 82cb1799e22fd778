package dev.dovetail.api.karpenter.v1;

/** Status condition types of Karpenter's NodeClaim, NodePool and EC2NodeClass, by their exact names. */
public final class ConditionTypes {
  /** Every object's roll-up: True when every condition it depends on is. */
  public static final String READY = "Ready";
  // NodeClaim
  public static final String LAUNCHED = "Launched";
  public static final String REGISTERED = "Registered";
  public static final String INITIALIZED = "Initialized";
  public static final String DRAINED = "Drained";
  public static final String DRIFTED = "Drifted";
  public static final String CONSOLIDATABLE = "Consolidatable";
  /** On a NodeClaim a disruption command is under way for (Karpenter v1.2): the reason is the disruption's (Underutilized, Empty, Drifted). */
  public static final String DISRUPTION_REASON = "DisruptionReason";
  // NodePool
  public static final String NODE_CLASS_READY = "NodeClassReady";
  public static final String VALIDATION_SUCCEEDED = "ValidationSucceeded";
  // EC2NodeClass
  public static final String SUBNETS_READY = "SubnetsReady";
  public static final String SECURITY_GROUPS_READY = "SecurityGroupsReady";
  public static final String AMIS_READY = "AMIsReady";
  public static final String INSTANCE_PROFILE_READY = "InstanceProfileReady";
  public static final String CAPACITY_RESERVATIONS_READY = "CapacityReservationsReady";

  private ConditionTypes() {
  }
}
