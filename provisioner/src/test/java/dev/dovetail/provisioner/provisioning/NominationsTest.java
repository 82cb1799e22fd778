package dev.dovetail.provisioner.provisioning;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.provisioner.provisioning.Nominations.Guidance;
import dev.dovetail.provisioner.provisioning.Nominations.PodRef;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NominationsTest {
  private static PodRef pod(String name, String workload, boolean spread) {
    return new PodRef("ns", name, name + "-uid", workload, spread);
  }

  @Test
  void aSpreadReplicaIsGuidedToEveryClaimOfItsWorkloadWeightedByPlannedReplicas() {
    Nominations n = new Nominations();
    n.plan("c1", "g", List.of(pod("s1", "spread", true), pod("s2", "spread", true), pod("s3", "spread", true), pod("w1", "web", false)));
    n.plan("c2", "g", List.of(pod("s4", "spread", true), pod("w2", "web", false)));
    List<Guidance> c1 = n.take("c1");
    assertThat(c1).hasSize(4);
    assertThat(c1.get(0).plannedClaims()).containsOnly(Map.entry("c1", 3), Map.entry("c2", 1));
    // Nominated pods are guided to their own claim only: they hold room there.
    assertThat(c1.get(3).plannedClaims()).containsOnly(Map.entry("c1", 1));
    assertThat(n.take("c1")).as("a claim is released once").isEmpty();
  }

  @Test
  void aLaunchGroupIsNominatedOnlyWhenEveryClaimHasBeen() {
    Nominations n = new Nominations();
    n.plan("c1", "g", List.of(pod("a", "w", false)));
    n.plan("c2", "g", List.of(pod("b", "w", false)));
    n.plan("c3", "other", List.of(pod("c", "w", false)));
    assertThat(n.groupNominated("g")).isFalse();
    n.take("c1");
    assertThat(n.groupNominated("g")).as("taken is not yet nominated").isFalse();
    assertThat(n.nominated("c1")).as("not the last of its group").isEmpty();
    assertThat(n.groupNominated("g")).isFalse();
    n.take("c2");
    assertThat(n.nominated("c2")).as("the last one hands back the whole group").containsExactlyInAnyOrder("c1", "c2");
    assertThat(n.groupNominated("g")).isTrue();
    assertThat(n.groupNominated("other")).isFalse();
    assertThat(n.groupNominated(null)).as("no group: nothing to wait for").isTrue();
  }

  @Test
  void aDeletedClaimDoesNotHoldItsGroupBack() {
    Nominations n = new Nominations();
    n.plan("c1", "g", List.of(pod("a", "w", false)));
    n.plan("c2", "g", List.of(pod("b", "w", false)));
    n.take("c1");
    n.nominated("c1");
    n.forget("c2");
    assertThat(n.groupNominated("g")).isTrue();
    assertThat(n.size()).isZero();
  }

  @Test
  void releasedNominationsAreRenewedOnceAndNeverForSpreadReplicas() {
    Nominations n = new Nominations();
    n.plan("c1", "g", List.of(pod("a", "w", false), pod("s", "spread", true)));
    assertThat(n.takeReleased("c1")).as("nothing released yet").isEmpty();
    n.take("c1");
    assertThat(n.takeReleased("c1")).extracting(PodRef::name).containsExactly("a");
    assertThat(n.takeReleased("c1")).isEmpty();
  }

  @Test
  void aPodIsInTransitOnlyDuringTheGrace() {
    Nominations n = new Nominations();
    Duration grace = Duration.ofSeconds(5);
    assertThat(n.inTransit("u", 0, grace)).isFalse();
    n.podReleased("u", 1_000);
    assertThat(n.inTransit("u", 1_000 + grace.toNanos() - 1, grace)).isTrue();
    assertThat(n.inTransit("u", 1_000 + grace.toNanos(), grace)).isFalse();
    assertThat(n.inTransit("u", 1_000, grace)).as("forgotten once the grace is over").isFalse();
  }
}
